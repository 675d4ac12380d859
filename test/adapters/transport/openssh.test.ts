// The OpenSSH transport (nodes vouched for by a `@cert-authority` line) against real sshd servers with host
// certificates signed by `ssh-keygen -s`: OpenSSH checks the CA signature, the principals, the validity period;
// a good certificate works, and each bad one is refused with an error naming the node and the fix.
import { appendFileSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CommandTimeoutError } from '../../../src/adapters/transport/node-shell.ts';
import { connectOpenSsh, type OpenSshOptions } from '../../../src/adapters/transport/openssh.ts';
import { startSshd, type TestSshd } from '../../support/sshd.ts';

let good: TestSshd;
let wrongName: TestSshd;
let expired: TestSshd;
let bastion: TestSshd;
beforeAll(async () => {
  [good, wrongName, expired, bastion] = await Promise.all([
    startSshd({ hostCertificate: {} }),
    startSshd({ hostCertificate: { principals: ['other-node.example'] } }),
    startSshd({ hostCertificate: { validity: '20200101:20200102' } }),
    startSshd({ hostCertificate: {} }),
  ]);
  // the Action logs in to the jump host with the nodes' key
  for (const jump of [bastion, wrongName]) appendFileSync(join(jump.dir, 'authorized_keys'), readFileSync(join(good.dir, 'client.pub')));
});
afterAll(async () => {
  await Promise.all([good?.stop(), wrongName?.stop(), expired?.stop(), bastion?.stop()]);
});

const caLine = (sshd: TestSshd, ca = sshd.hostCa) => `@cert-authority [${sshd.host}]:${sshd.port} ${ca}`;
const target = (sshd: TestSshd, node = 'cp-1') => ({ node, host: sshd.host, port: sshd.port, user: 'root' });
const options = (sshd: TestSshd, knownHosts = caLine(sshd), extra: Partial<OpenSshOptions> = {}): OpenSshOptions => ({
  privateKey: sshd.clientKey,
  knownHosts,
  ...extra,
});
const accepted = (sshd: TestSshd) => (sshd.log().match(/Accepted publickey/g) ?? []).length;
/** whether a process runs (a zombie waiting for its parent to reap it has ended) */
const alive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

describe('OpenSSH transport with a host certificate', () => {
  test('runs argument vectors verbatim over one shared connection; the key stays off the disk; close removes everything', async () => {
    const before = accepted(good);
    const shell = await connectOpenSsh(target(good), options(good));
    const dir = shell.directory;
    try {
      const hostile = ['$(id)', "it's; rm -rf /", 'a\nb', '*', '--', '~.'];
      const printed = await shell.run(['printf', '%s\\0', ...hostile]);
      expect(printed.stdout.split('\0').slice(0, -1)).toEqual(hostile);
      expect(await shell.run(['sh', '-c', 'echo oops >&2; exit 7'])).toEqual({ code: 7, stdout: '', stderr: 'oops\n' });
      expect(await shell.run(['sh', '-c', 'exit 255'])).toEqual({ code: 255, stdout: '', stderr: '' });
      expect((await shell.run(['cat'], { stdin: 'from stdin\n~.\n' })).stdout).toBe('from stdin\n~.\n');
      expect((await shell.run(['id', '-u'], { sudo: true })).stdout).toBe('0\n'); // root: no sudo in front
      expect(accepted(good) - before).toBe(1);

      expect(statSync(dir).mode & 0o777).toBe(0o700);
      expect(statSync(join(dir, 'known_hosts')).mode & 0o777).toBe(0o600);
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isFile()) expect(readFileSync(path, 'utf8')).not.toContain('PRIVATE KEY');
      }
      expect(alive(shell.agentPid)).toBe(true);

      // files come over the same connection, byte for byte, into a 0600 file; a missing one says so
      const copy = join(good.dir, 'copied-host-key.pub');
      await shell.fetchFile(join(good.dir, 'host_ed25519-cert.pub'), copy);
      expect(readFileSync(copy)).toEqual(readFileSync(join(good.dir, 'host_ed25519-cert.pub')));
      expect(statSync(copy).mode & 0o777).toBe(0o600);
      await expect(shell.fetchFile('/nonexistent/file', copy)).rejects.toThrow(/cannot copy \/nonexistent\/file from cp-1 .*No such file/);
      expect(accepted(good) - before).toBe(1);
    } finally {
      await shell.close();
    }
    expect(existsSync(dir)).toBe(false);
    expect(alive(shell.agentPid)).toBe(false);
    await expect(shell.run(['true'])).rejects.toThrow(/closed/);
  });

  test('ends a command that outlives its timeout, and the connection stays usable (key as an input has it: no final newline)', async () => {
    const shell = await connectOpenSsh(target(good), { ...options(good), privateKey: good.clientKey.trimEnd() });
    try {
      await expect(shell.run(['sleep', '30'], { timeoutMs: 300 })).rejects.toBeInstanceOf(CommandTimeoutError);
      expect((await shell.run(['echo', 'still usable'])).stdout).toBe('still usable\n');
    } finally {
      await shell.close();
    }
  });

  test('goes through a jump host (ProxyJump, -J) that its own certificate vouches for', async () => {
    const [nodeBefore, bastionBefore] = [accepted(good), accepted(bastion)];
    const knownHosts = `${caLine(good)}\n${caLine(bastion)}\n`;
    const shell = await connectOpenSsh(
      target(good),
      options(good, knownHosts, { jumpHost: { user: 'root', host: bastion.host, port: bastion.port } }),
    );
    try {
      expect((await shell.run(['echo', 'via bastion'])).stdout).toBe('via bastion\n');
      expect((await shell.run(['echo', 'again'])).stdout).toBe('again\n');
    } finally {
      await shell.close();
    }
    expect([accepted(good) - nodeBefore, accepted(bastion) - bastionBefore]).toEqual([1, 1]);
  });
});

/** processes whose command line names `dir` (the agent, the master connection, a jump host's ssh) */
const processesUsing = (dir: string) =>
  readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return alive(Number(pid)) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir);
      } catch {
        return false;
      }
    });

test('a process that exits without closing its shells leaves no agent, connection or directory behind', () => {
  const script = `
    import { connectOpenSsh } from ${JSON.stringify(new URL('../../../src/adapters/transport/openssh.ts', import.meta.url).pathname)};
    const shell = await connectOpenSsh(${JSON.stringify(target(good))}, ${JSON.stringify(options(good))});
    await shell.run(['true']);
    console.log(JSON.stringify({ dir: shell.directory, agent: shell.agentPid }));
    process.exit(0);
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  const { dir, agent } = JSON.parse(out) as { dir: string; agent: number };
  expect(dir).toMatch(/kua-ssh-/);
  expect(existsSync(dir)).toBe(false);
  expect(alive(agent)).toBe(false);
  expect(processesUsing(dir)).toEqual([]);
});

describe('OpenSSH transport refuses bad host certificates', () => {
  test('a certificate for another host name', async () => {
    const error = await connectOpenSsh(target(wrongName, 'worker-2'), options(wrongName)).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toMatch(
      /^host key of node worker-2 \(root@127\.[\d.]+:\d+\) was refused: its host certificate does not list 127\.[\d.]+ /,
    );
    expect(message).toContain('name is not a listed principal');
    expect(message).toMatch(/Fix: re-sign the node's host key with 127\.[\d.]+ among the principals/);
    expect(accepted(wrongName)).toBe(0);
  });

  test('an expired certificate', async () => {
    const error = await connectOpenSsh(target(expired, 'cp-2'), options(expired)).catch((e: Error) => e);
    const message = (error as Error).message;
    expect(message).toMatch(/^host key of node cp-2 .* was refused: its host certificate is not valid now/);
    expect(message).toContain('Certificate invalid: expired');
    expect(message).toMatch(/Fix: renew the node's host certificate/);
    expect(accepted(expired)).toBe(0);
  });

  test('a certificate signed by another CA than the one ssh-known-hosts names', async () => {
    // known_hosts trusts the CA of another server for this address
    const error = await connectOpenSsh(target(good, 'worker-9'), options(good, caLine(good, wrongName.hostCa))).catch((e: Error) => e);
    const message = (error as Error).message;
    expect(message).toMatch(/^host key of node worker-9 .* was refused: the node showed neither a host certificate signed by a CA/);
    expect(message).toContain('Host key verification failed');
    expect(message).toMatch(/Fix: add the @cert-authority line of the CA that signed the node's certificate/);
  });

  test('a jump host whose certificate is refused is named as the jump host', async () => {
    const knownHosts = `${caLine(good)}\n${caLine(wrongName)}\n`;
    const error = await connectOpenSsh(
      target(good, 'cp-1'),
      options(good, knownHosts, { jumpHost: { user: 'root', host: wrongName.host, port: wrongName.port } }),
    ).catch((e: Error) => e);
    expect((error as Error).message).toMatch(
      /^host key of jump host root@127\.[\d.]+:\d+ \(on the way to cp-1\) was refused: its host certificate does not list/,
    );
  });

  test('nothing is left behind when the connection is refused', async () => {
    const before = readdirSync(join(good.dir, '..')).filter((name) => name.startsWith('kua-ssh-')).length;
    await connectOpenSsh(target(expired), options(expired)).catch(() => undefined);
    expect(readdirSync(join(good.dir, '..')).filter((name) => name.startsWith('kua-ssh-')).length).toBe(before);
  });
});

describe('OpenSSH transport without OpenSSH', () => {
  test('a runner without `ssh` gets an error naming the node and the fix', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      const error = await connectOpenSsh(target(good, 'worker-4'), options(good)).catch((e: Error) => e);
      expect((error as Error).message).toMatch(/^node worker-4 is vouched for by a @cert-authority line in ssh-known-hosts/);
      expect((error as Error).message).toMatch(/`ssh` is not installed on the runner .* Fix: install the OpenSSH client on the runner/);
    } finally {
      process.env.PATH = path;
    }
  });
});

test('ssh-keygen signed the servers as the tests assume', () => {
  const show = (sshd: TestSshd) => execFileSync('ssh-keygen', ['-L', '-f', join(sshd.dir, 'host_ed25519-cert.pub')], { encoding: 'utf8' });
  expect(show(wrongName)).toContain('other-node.example');
  expect(show(expired)).toMatch(/Valid: from 2020-01-01/);
});
