// Every value that reaches a node's shell goes through quoteCommand: hostile values must come back verbatim.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quoteArg, quoteCommand } from '../../../src/adapters/transport/quote.ts';

const canary = join(mkdtempSync(join(tmpdir(), 'kua-quote-')), 'pwned');

const HOSTILE = [
  '1.31;rm -rf /',
  `$(touch ${canary})`,
  `\`touch ${canary}\``,
  `root;touch ${canary}`,
  `a && touch ${canary}`,
  `a | touch ${canary}`,
  `> ${canary}`,
  "it's",
  "''",
  `"double" and 'single'`,
  'back\\slash\\',
  '$HOME ${PATH} $1 $@ $*',
  '*',
  '~root',
  'line one\nline two',
  'tab\there',
  ' leading and trailing ',
  '',
  '-n',
  '--',
  '!event',
  '#comment',
  'ünïcødé ✓',
  '%s %d',
];

/** Runs the quoted command line through a real POSIX shell and returns the arguments printf saw. */
function roundTrip(values: string[]): string[] {
  const line = quoteCommand(['printf', '%s\\0', ...values]);
  const out = execFileSync('/bin/sh', ['-c', line], { encoding: 'utf8' });
  return out.split('\0').slice(0, -1);
}

describe('quoteCommand', () => {
  it('hands every hostile value to the program unchanged, through a real /bin/sh', () => {
    expect(roundTrip(HOSTILE)).toEqual(HOSTILE);
    expect(existsSync(canary), 'a quoted value was executed by the shell').toBe(false);
  });

  it.each(HOSTILE)('round-trips %j on its own', (value) => {
    expect(roundTrip([value])).toEqual([value]);
  });

  it('leaves plain words readable in logs', () => {
    expect(quoteCommand(['apt-cache', '-o', 'Dir::State::Lists=/tmp/x/lists', 'madison', 'kubeadm'])).toBe(
      'apt-cache -o Dir::State::Lists=/tmp/x/lists madison kubeadm',
    );
    expect(quoteArg('${Package}\t${Version}\n')).toBe(`'\${Package}\t\${Version}\n'`);
  });

  it('refuses values a shell cannot carry', () => {
    expect(() => quoteArg('a\0b')).toThrow(/NUL/);
    expect(() => quoteCommand([])).toThrow(/empty/);
  });
});
