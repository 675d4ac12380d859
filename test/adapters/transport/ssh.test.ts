// The SSH transport against a real OpenSSH server: strict host keys, one connection per node, jump host,
// timeouts, and errors that name the node and the fix.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectSsh, type SshOptions } from '../../../src/adapters/transport/ssh.ts';
import { CommandTimeoutError } from '../../../src/adapters/transport/node-shell.ts';
import { startSshd, type TestSshd } from '../../support/sshd.ts';

let sshd: TestSshd;
const accepted = () => (sshd.log().match(/Accepted publickey/g) ?? []).length;

beforeAll(async () => {
  sshd = await startSshd();
});
afterAll(async () => {
  await sshd?.stop();
});

function target(node = 'cp-1') {
  return { node, host: sshd.host, port: sshd.port, user: 'root' };
}

function options(knownHosts: string, extra: Partial<SshOptions> = {}): SshOptions {
  return { privateKey: sshd.clientKey, knownHosts, insecureSkipHostKeyCheck: false, ...extra };
}

const knownLine = (key: string) => `[${sshd.host}]:${sshd.port} ${key}`;

describe('SSH transport', () => {
  it('runs argument vectors verbatim over one reused connection', async () => {
    const before = accepted();
    const shell = await connectSsh(target(), options(knownLine(sshd.hostKeys.ed25519)));
    try {
      const hostile = ['$(id)', "it's; rm -rf /", 'a\nb', '*'];
      const printed = await shell.run(['printf', '%s\\0', ...hostile]);
      expect(printed.stdout.split('\0').slice(0, -1)).toEqual(hostile);
      const failed = await shell.run(['sh', '-c', 'echo oops >&2; exit 7']);
      expect(failed).toEqual({ code: 7, stdout: '', stderr: 'oops\n' });
      const echoed = await shell.run(['cat'], { stdin: 'from stdin\n' });
      expect(echoed.stdout).toBe('from stdin\n');
      expect(accepted() - before).toBe(1);
    } finally {
      await shell.close();
    }
  });

  it('verifies against hashed known_hosts entries and picks the key type listed there', async () => {
    const file = join(sshd.dir, 'known_hosts_hashed');
    writeFileSync(file, `${knownLine(sshd.hostKeys.rsa)}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    const shell = await connectSsh(target(), options(readFileSync(file, 'utf8')));
    expect((await shell.run(['true'])).code).toBe(0);
    await shell.close();
  });

  it('fails on an unknown host key, naming the node, the offered key and the fix', async () => {
    const other = knownLine(sshd.hostKeys.ed25519).replace(`[${sshd.host}]`, '[10.9.9.9]');
    const error = await connectSsh(target('worker-3'), options(other)).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/host key of node worker-3 \(root@127\.[\d.]+:\d+\) is unknown/);
    expect((error as Error).message).toContain('SHA256:');
    expect((error as Error).message).toContain('ssh-known-hosts');
  });

  it('fails on a changed host key as a mismatch', async () => {
    // known_hosts claims the server's ECDSA key is its ed25519 key's bytes: a different key of a listed type
    const wrong = knownLine(`ecdsa-sha2-nistp256 ${sshd.hostKeys.ecdsa.split(' ')[1]!.replace(/A/, 'B')}`);
    const error = await connectSsh(target(), options(wrong)).catch((e: Error) => e);
    expect((error as Error).message).toMatch(/host key of node cp-1 .* does not match/);
  });

  it('accepts a pinned fingerprint instead of known_hosts, and rejects a wrong one', async () => {
    const fingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(sshd.dir, 'host_ed25519.pub')], {
      encoding: 'utf8',
    }).split(' ')[1]!;
    // the server offers its ed25519 key first to ssh2's default algorithm order
    const shell = await connectSsh({ ...target(), hostKeyFingerprint: fingerprint }, options(''));
    await shell.close();
    const error = await connectSsh(
      { ...target('cp-2'), hostKeyFingerprint: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' },
      options(''),
    ).catch((e: Error) => e);
    expect((error as Error).message).toMatch(/host key of node cp-2 .* does not match/);
  });

  it('accepts any key when host-key checking is switched off, and warns', async () => {
    const warnings: string[] = [];
    const shell = await connectSsh(target(), options('', { insecureSkipHostKeyCheck: true, warn: (m) => warnings.push(m) }));
    await shell.close();
    expect(warnings.join('\n')).toContain('not checked');
  });

  it('goes through a jump host with forwardOut', async () => {
    const before = accepted();
    const known = knownLine(sshd.hostKeys.ed25519);
    const shell = await connectSsh(target(), options(known, { jumpHost: { user: 'root', host: sshd.host, port: sshd.port } }));
    expect((await shell.run(['echo', 'via bastion'])).stdout).toBe('via bastion\n');
    await shell.close();
    expect(accepted() - before).toBe(2);
  });

  it('ends a command that outlives its timeout', async () => {
    const shell = await connectSsh(target(), options(knownLine(sshd.hostKeys.ed25519)));
    try {
      await expect(shell.run(['sleep', '30'], { timeoutMs: 300 })).rejects.toBeInstanceOf(CommandTimeoutError);
      expect((await shell.run(['echo', 'still usable'])).stdout).toBe('still usable\n');
    } finally {
      await shell.close();
    }
  });

  it('names the node and address when nothing listens there', async () => {
    const error = await connectSsh({ node: 'worker-7', host: sshd.host, port: 1, user: 'root' }, options('')).catch((e: Error) => e);
    expect((error as Error).message).toMatch(
      new RegExp(`cannot connect to node worker-7 \\(root@${sshd.host.replaceAll('.', '\\.')}:1\\).*ECONNREFUSED`),
    );
  });

  it('says how to fix a key the node does not accept, without printing the key', async () => {
    const stranger = execFileSync('sh', ['-c', `ssh-keygen -q -t ed25519 -N '' -f ${sshd.dir}/stranger && cat ${sshd.dir}/stranger`], {
      encoding: 'utf8',
    });
    const error = await connectSsh(target(), { ...options(knownLine(sshd.hostKeys.ed25519)), privateKey: stranger }).catch((e: Error) => e);
    expect((error as Error).message).toContain('ssh-private-key');
    expect((error as Error).message).not.toContain('PRIVATE KEY');
  });
});

describe('privateKeyProblem', () => {
  it('accepts a usable key and explains unusable ones without echoing them', async () => {
    const { privateKeyProblem } = await import('../../../src/adapters/transport/ssh.ts');
    expect(privateKeyProblem(sshd.clientKey)).toBeUndefined();
    const garbage = '-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-key\n-----END OPENSSH PRIVATE KEY-----\n';
    expect(privateKeyProblem(garbage)).toMatch(/cannot be read as an SSH private key/);
    const encrypted = execFileSync(
      'sh',
      ['-c', `ssh-keygen -q -t ed25519 -N secret-pass -f ${sshd.dir}/locked && cat ${sshd.dir}/locked`],
      { encoding: 'utf8' },
    );
    expect(privateKeyProblem(encrypted)).toMatch(/passphrase/);
  });
});
