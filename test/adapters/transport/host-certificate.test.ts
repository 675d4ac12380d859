// Host certificates (`@cert-authority` in known_hosts, issue #10 item 11). ssh2 1.17 cannot negotiate certificate
// host keys: its client offers and accepts only plain key algorithms (SUPPORTED_SERVER_HOST_KEY has no
// *-cert-v01@openssh.com), its KEX reply parser (parseDERKey) knows no certificate blob, and it requires the
// signature type to equal the negotiated host-key name, which a certificate algorithm never does. So a server with
// a CA-signed host key shows ssh2 its plain key, which the CA line cannot vouch for. ssh2 refuses that connection
// (it must: nothing else vouches for the plain key) with an error that names the reason and the fix; the Action's
// node connections send such a node to the OpenSSH transport instead (open.test.ts, openssh.test.ts).
// The same sshd is reachable with OpenSSH's client and the CA line alone, so the certificate itself is valid.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { verifyAgainstKnownHosts, parseKnownHosts } from '../../../src/adapters/transport/known-hosts.ts';
import { connectSsh } from '../../../src/adapters/transport/ssh.ts';
import { startSshd, type TestSshd } from '../../support/sshd.ts';

let sshd: TestSshd;
beforeAll(async () => {
  sshd = await startSshd({ hostCertificate: {} });
});
afterAll(async () => {
  await sshd?.stop();
});

const caLine = () => `@cert-authority [${sshd.host}]:${sshd.port} ${sshd.hostCa}`;

describe('host certificates', () => {
  test('OpenSSH accepts the CA-signed host certificate with only the @cert-authority line', () => {
    const knownHosts = join(sshd.dir, 'known_hosts_ca');
    const key = join(sshd.dir, 'client');
    writeFileSync(knownHosts, `${caLine()}\n`);
    const out = execFileSync(
      'ssh',
      [
        '-F',
        '/dev/null',
        '-i',
        key,
        '-p',
        String(sshd.port),
        '-o',
        `UserKnownHostsFile=${knownHosts}`,
        '-o',
        'GlobalKnownHostsFile=/dev/null',
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        'BatchMode=yes',
        `root@${sshd.host}`,
        'echo',
        'certified',
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    expect(out.trim()).toBe('certified');
  });

  test('a host known only through @cert-authority gets its own verdict, not "unknown"', () => {
    const entries = parseKnownHosts(`${caLine()}\n`);
    const offered = Buffer.from(sshd.hostKeys.ed25519.split(' ')[1]!, 'base64');
    expect(verifyAgainstKnownHosts(entries, sshd.host, sshd.port, offered)).toMatchObject({ ok: false, reason: 'certificate-authority' });
    expect(verifyAgainstKnownHosts(entries, '10.9.9.9', 22, offered)).toMatchObject({ ok: false, reason: 'unknown' });
  });

  test('the ssh2 transport refuses it, saying ssh2 cannot use host certificates and what to do instead', async () => {
    const error = await connectSsh(
      { node: 'cp-1', host: sshd.host, port: sshd.port, user: 'root' },
      { privateKey: sshd.clientKey, knownHosts: `${caLine()}\n`, insecureSkipHostKeyCheck: false },
    ).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toMatch(/host key of node cp-1 .* is vouched for only by a host certificate authority \(@cert-authority/);
    expect(message).toMatch(/cannot verify SSH host certificates/);
    expect(message).toContain('SHA256:');
    expect(message).toMatch(/reach such a node with the runner's OpenSSH client/);
    expect(message).toMatch(
      /Fix: open it through the OpenSSH transport, or add the node's own host key .* or pin it with `hostKeyFingerprint`/,
    );
  });

  test('with the plain host key listed next to the CA line, the connection works', async () => {
    const shell = await connectSsh(
      { node: 'cp-1', host: sshd.host, port: sshd.port, user: 'root' },
      {
        privateKey: sshd.clientKey,
        knownHosts: `${caLine()}\n[${sshd.host}]:${sshd.port} ${sshd.hostKeys.ed25519}\n`,
        insecureSkipHostKeyCheck: false,
      },
    );
    try {
      expect((await shell.run(['echo', 'ok'])).stdout).toBe('ok\n');
    } finally {
      await shell.close();
    }
  });
});
