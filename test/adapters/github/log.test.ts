// Nothing the Action prints from outside (node output, API messages) can be a workflow command: every line is
// neutralised before it reaches the runner, checked with the runner's own parsing rules.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { log, neutraliseCommands } from '../../../src/adapters/github/log.ts';
import { parseWorkflowCommands } from '../../support/action-runner.ts';

const HOSTILE = [
  '::set-output name=outcome::succeeded',
  '  ::save-state name=lock::{}',
  '\t::stop-commands::tok',
  '##[add-mask]secret',
  'before ##[set-output name=x;]y',
  '::error::annotation',
  'a\r::warning::after CR',
  'b\r\n::notice::after CRLF',
  '\u00a0::debug::after NBSP',
  '\u0085::group::after NEL',
  '\u2003::endgroup::after EM SPACE',
  '\u3000::ADD-MASK::upper case',
  '::tok::',
];

afterEach(() => {
  vi.restoreAllMocks();
});

describe('neutraliseCommands', () => {
  it.each(HOSTILE)('leaves no workflow command in %j, and the text readable', (text) => {
    const safe = neutraliseCommands(text);
    expect(parseWorkflowCommands(safe)).toEqual([]);
    expect(safe.replace(/\u200b/g, '')).toBe(text);
  });

  it('all of them at once, as one block of output', () => {
    expect(parseWorkflowCommands(neutraliseCommands(HOSTILE.join('\n')))).toEqual([]);
  });

  it('leaves ordinary text alone', () => {
    for (const text of ['cp-1: kubeadm upgrade apply v1.31.4', 'https://[fe80::1]:6443', 'a::b', '# comment [x]', '']) {
      expect(neutraliseCommands(text)).toBe(text);
    }
  });
});

describe('log: every line the Action prints goes through it', () => {
  function printed(fn: () => void): string {
    const chunks: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      chunks.push(String(chunk));
      return true;
    });
    fn();
    return chunks.join('');
  }

  it('info, warning, error, notice, groups and setFailed issue only their own command', () => {
    const text = HOSTILE.join('\n');
    const out = printed(() => {
      log.info(text);
      log.warning(text);
      log.error(text);
      log.notice(text);
      log.group(text, HOSTILE);
      log.setFailed(text);
    });
    process.exitCode = undefined;
    expect(parseWorkflowCommands(out).map((c) => c.command)).toEqual(['warning', 'error', 'notice', 'group', 'endgroup', 'error']);
    expect(out.replace(/\u200b/g, '')).toContain('::set-output name=outcome::succeeded');
  });
});

describe('one place', () => {
  it('no source file but log.ts prints through @actions/core directly', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const root = join(import.meta.dirname, '..', '..', '..', 'src');
    const offenders: string[] = [];
    for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
      const path = join(entry.parentPath, entry.name);
      if (path.endsWith(join('adapters', 'github', 'log.ts'))) continue;
      const text = readFileSync(path, 'utf8');
      if (
        /\bcore\.(info|warning|error|notice|debug|setFailed|startGroup|endGroup|group)\(|process\.(stdout|stderr)\.write|console\./.test(
          text,
        )
      )
        offenders.push(path);
    }
    expect(offenders).toEqual([]);
  });
});
