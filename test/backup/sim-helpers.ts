// Test helpers: a simulated cluster's nodes as the action sees them, shells over real SSH, a log that
// records everything the backup code says (for the secrets scan), and etcdctl on a control plane.
import { readFileSync } from 'node:fs';
import type { InventoryNode } from '../../src/core/inventory.ts';
import { connectSsh } from '../../src/adapters/transport/ssh.ts';
import type { NodeShell } from '../../src/adapters/transport/node-shell.ts';
import type { SimCluster } from '../../sim/index.ts';

export function inventoryNodes(cluster: SimCluster): InventoryNode[] {
  return cluster.spec.nodes.map((n) => ({
    name: n.name,
    address: n.address,
    role: n.role,
    user: 'root',
    port: n.sshPort,
    transport: 'ssh' as const,
    labels: {},
  }));
}

export function sshOpener(cluster: SimCluster): (node: InventoryNode) => Promise<NodeShell> {
  const privateKey = readFileSync(cluster.sshKeyPath, 'utf8');
  const knownHosts = readFileSync(cluster.knownHostsPath, 'utf8');
  return (node) =>
    connectSsh(
      { node: node.name, host: node.address, port: node.port, user: node.user },
      { privateKey, knownHosts, insecureSkipHostKeyCheck: false },
    );
}

export interface RecordingLog {
  lines: string[];
  log: (message: string) => void;
  warn: (message: string) => void;
}

export function recordingLog(): RecordingLog {
  const lines: string[] = [];
  return { lines, log: (m) => lines.push(m), warn: (m) => lines.push(`warning: ${m}`) };
}

/** etcdctl on the node against its own etcd, with the node's client certificate. */
export function etcdctlArgs(node: { address: string }, ...rest: string[]): string[] {
  const pki = '/etc/kubernetes/pki/etcd';
  return [
    'etcdctl',
    `--endpoints=https://${node.address}:2379`,
    `--cacert=${pki}/ca.crt`,
    `--cert=${pki}/healthcheck-client.crt`,
    `--key=${pki}/healthcheck-client.key`,
    ...rest,
  ];
}

export async function mustRun(shell: NodeShell, argv: string[], stdin?: string): Promise<string> {
  const result = await shell.run(argv, stdin !== undefined ? { stdin } : {});
  if (result.code !== 0) throw new Error(`${argv.join(' ')} on ${shell.node} failed: ${result.stderr}`);
  return result.stdout;
}
