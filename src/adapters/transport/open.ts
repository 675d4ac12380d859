// Opens the right NodeShell for an inventory node: SSH (verified, through the jump host if any) or local.
import type { InventoryNode } from '../../core/inventory.ts';
import type { Settings } from '../../core/settings.ts';
import { parseKnownHosts } from './known-hosts.ts';
import { LocalShell } from './local.ts';
import type { NodeShell } from './node-shell.ts';
import { connectSsh } from './ssh.ts';

export type ShellOpener = (node: InventoryNode) => Promise<NodeShell>;

export function shellOpener(settings: Settings, warn: (message: string) => void = () => {}): ShellOpener {
  const knownHosts = parseKnownHosts(settings.ssh.knownHosts ?? '');
  return async (node) => {
    if (node.transport === 'local') return new LocalShell(node.name);
    if (!settings.ssh.privateKey) throw new Error(`node ${node.name} uses transport ssh, but ssh-private-key is empty`);
    return connectSsh(
      {
        node: node.name,
        host: node.address,
        port: node.port,
        user: node.user,
        ...(node.hostKeyFingerprint ? { hostKeyFingerprint: node.hostKeyFingerprint } : {}),
      },
      {
        privateKey: settings.ssh.privateKey,
        knownHosts: settings.ssh.knownHosts ?? '',
        insecureSkipHostKeyCheck: settings.ssh.insecureSkipHostKeyCheck,
        ...(settings.ssh.jumpHost ? { jumpHost: settings.ssh.jumpHost } : {}),
        warn,
      },
      knownHosts,
    );
  };
}
