// Opens the right NodeShell for an inventory node: SSH (verified, through the jump host if any) or local.
// SSH goes through the built-in client (ssh2) unless a `@cert-authority` line in ssh-known-hosts covers the node or
// the jump host: ssh2 cannot verify host certificates, so those connections use the runner's OpenSSH client.
import type { InventoryNode } from '../../core/inventory.ts';
import type { Settings } from '../../core/settings.ts';
import { certificateAuthorityFor, parseKnownHosts } from './known-hosts.ts';
import { LocalShell } from './local.ts';
import type { NodeShell } from './node-shell.ts';
import { connectOpenSsh } from './openssh.ts';
import { connectSsh } from './ssh.ts';

export type ShellOpener = (node: InventoryNode) => Promise<NodeShell>;

export function shellOpener(settings: Settings, warn: (message: string) => void = () => {}): ShellOpener {
  const knownHosts = parseKnownHosts(settings.ssh.knownHosts ?? '');
  const jumpHost = settings.ssh.jumpHost;
  return async (node) => {
    if (node.transport === 'local') return new LocalShell(node.name);
    if (!settings.ssh.privateKey) throw new Error(`node ${node.name} uses transport ssh, but ssh-private-key is empty`);
    const target = {
      node: node.name,
      host: node.address,
      port: node.port,
      user: node.user,
      ...(node.hostKeyFingerprint ? { hostKeyFingerprint: node.hostKeyFingerprint } : {}),
    };
    const certified =
      !settings.ssh.insecureSkipHostKeyCheck &&
      !node.hostKeyFingerprint &&
      (certificateAuthorityFor(knownHosts, node.address, node.port) ||
        (jumpHost !== undefined && certificateAuthorityFor(knownHosts, jumpHost.host, jumpHost.port)));
    if (certified) {
      return connectOpenSsh(target, {
        privateKey: settings.ssh.privateKey,
        knownHosts: settings.ssh.knownHosts ?? '',
        ...(jumpHost ? { jumpHost } : {}),
      });
    }
    return connectSsh(
      target,
      {
        privateKey: settings.ssh.privateKey,
        knownHosts: settings.ssh.knownHosts ?? '',
        insecureSkipHostKeyCheck: settings.ssh.insecureSkipHostKeyCheck,
        ...(jumpHost ? { jumpHost } : {}),
        warn,
      },
      knownHosts,
    );
  };
}
