// Which transport shellOpener picks: a node covered by a `@cert-authority` line in ssh-known-hosts goes over the
// runner's OpenSSH client (it verifies the host certificate); every other node keeps the built-in ssh2 transport.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { InventoryNode } from '../../../src/core/inventory.ts';
import type { Settings } from '../../../src/core/settings.ts';
import { shellOpener } from '../../../src/adapters/transport/open.ts';
import { SshShell } from '../../../src/adapters/transport/ssh.ts';
import { startSshd, type TestSshd } from '../../support/sshd.ts';

let sshd: TestSshd;
beforeAll(async () => {
  sshd = await startSshd({ hostCertificate: {} });
});
afterAll(async () => {
  await sshd?.stop();
});

function settings(knownHosts: string): Settings {
  return { ssh: { privateKey: sshd.clientKey, knownHosts, user: 'root', port: sshd.port, insecureSkipHostKeyCheck: false } } as Settings;
}

function node(): InventoryNode {
  return { name: 'cp-1', address: sshd.host, port: sshd.port, user: 'root', transport: 'ssh' } as InventoryNode;
}

describe('shellOpener', () => {
  test('a node known only through @cert-authority is reached (OpenSSH checks its certificate)', async () => {
    const open = shellOpener(settings(`@cert-authority [${sshd.host}]:${sshd.port} ${sshd.hostCa}\n`));
    const shell = await open(node());
    try {
      expect(shell).not.toBeInstanceOf(SshShell);
      expect((await shell.run(['echo', 'certified'])).stdout).toBe('certified\n');
    } finally {
      await shell.close();
    }
  });

  test('a node listed with its own host key keeps the built-in ssh2 transport', async () => {
    const shell = await shellOpener(settings(`[${sshd.host}]:${sshd.port} ${sshd.hostKeys.ed25519}\n`))(node());
    try {
      expect(shell).toBeInstanceOf(SshShell);
      expect((await shell.run(['echo', 'plain'])).stdout).toBe('plain\n');
    } finally {
      await shell.close();
    }
  });
});
