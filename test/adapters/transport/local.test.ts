// The local transport (self-hosted runner on the node): argv straight to execFile, no shell in between.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalShell } from '../../../src/adapters/transport/local.ts';
import { CommandTimeoutError, withSudo } from '../../../src/adapters/transport/node-shell.ts';

describe('LocalShell', () => {
  const shell = new LocalShell('runner-node');

  it('passes arguments without a shell, so nothing in them is interpreted', async () => {
    const canary = join(mkdtempSync(join(tmpdir(), 'kua-local-')), 'pwned');
    const result = await shell.run(['printf', '%s|', `$(touch ${canary})`, 'a;b', '*']);
    expect(result).toEqual({ code: 0, stdout: `$(touch ${canary})|a;b|*|`, stderr: '' });
    expect(existsSync(canary)).toBe(false);
  });

  it('returns exit code, stderr and reads stdin', async () => {
    expect(await shell.run(['sh', '-c', 'cat; echo bad >&2; exit 3'], { stdin: 'in\n' })).toEqual({
      code: 3,
      stdout: 'in\n',
      stderr: 'bad\n',
    });
  });

  it('reports a missing program as exit 127, like a shell', async () => {
    const result = await shell.run(['no-such-program-kua']);
    expect(result.code).toBe(127);
    expect(result.stderr).toContain('no-such-program-kua');
  });

  it('stops a command at its timeout', async () => {
    await expect(shell.run(['sleep', '20'], { timeoutMs: 200 })).rejects.toBeInstanceOf(CommandTimeoutError);
  });
});

describe('withSudo', () => {
  it('prefixes sudo -n only for non-root users who ask for root', () => {
    expect(withSudo(['kubeadm', 'upgrade', 'node'], 'ubuntu', true)).toEqual(['sudo', '-n', '--', 'kubeadm', 'upgrade', 'node']);
    expect(withSudo(['kubeadm'], 'root', true)).toEqual(['kubeadm']);
    expect(withSudo(['kubeadm'], 'ubuntu', false)).toEqual(['kubeadm']);
  });
});
