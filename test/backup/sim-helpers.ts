// Test helpers: a simulated cluster's nodes as the action sees them, shells over real SSH, a log that
// records everything the backup code says (for the secrets scan), and etcdctl on a control plane.
import { readFileSync } from 'node:fs';
import type { InventoryNode } from '../../src/core/inventory.ts';
import { connectSsh } from '../../src/adapters/transport/ssh.ts';
import type { NodeShell } from '../../src/adapters/transport/node-shell.ts';
import type { SimCluster } from '../../sim/index.ts';
import { createKubeClient, loadKubeconfig } from '../../sim/lib/kube-rest.ts';
import { parse as parseYaml } from 'yaml';

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

/** What a rollback must rewind in the API: kubeadm's version, the addons, and a workload made after the backup. */
export interface ApiState {
  kubernetesVersion: string | undefined;
  kubeProxyImage: string | undefined;
  corednsSpec: unknown;
  workloadAfterBackup: boolean;
}

export const WORKLOAD_AFTER_BACKUP = '/apis/apps/v1/namespaces/default/deployments/created-after-backup';

export async function apiState(cluster: SimCluster): Promise<ApiState> {
  const kube = createKubeClient(loadKubeconfig(cluster.kubeconfigPath));
  try {
    const config = await kube.get('/api/v1/namespaces/kube-system/configmaps/kubeadm-config');
    const proxy = await kube.get('/apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy');
    const coredns = await kube.get('/apis/apps/v1/namespaces/kube-system/deployments/coredns');
    return {
      kubernetesVersion: (parseYaml(config.data?.ClusterConfiguration ?? '') as { kubernetesVersion?: string } | null)?.kubernetesVersion,
      kubeProxyImage: proxy.spec?.template?.spec?.containers?.[0]?.image,
      corednsSpec: coredns.spec,
      workloadAfterBackup: (await kube.getOrNull(WORKLOAD_AFTER_BACKUP)) !== null,
    };
  } finally {
    kube.close();
  }
}

/**
 * API changes after the backup that a rollback must undo: a new Deployment, and CoreDNS scaled to 3 (kubeadm
 * deploys the same CoreDNS image for 1.30 and 1.31, so the upgrade alone leaves its Deployment as it was).
 */
export async function changeApiAfterBackup(cluster: SimCluster): Promise<void> {
  const kube = createKubeClient(loadKubeconfig(cluster.kubeconfigPath));
  try {
    await kube.patch('/apis/apps/v1/namespaces/kube-system/deployments/coredns', { spec: { replicas: 3 } });
    await kube.create('/apis/apps/v1/namespaces/default/deployments', {
      metadata: { name: 'created-after-backup', labels: { app: 'created-after-backup' } },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'created-after-backup' } },
        template: {
          metadata: { labels: { app: 'created-after-backup' } },
          spec: { containers: [{ name: 'main', image: 'nginx:1.25' }] },
        },
      },
    });
  } finally {
    kube.close();
  }
}

/** Runs argv on the cluster's node `name` over SSH (root), returns its stdout; throws naming the node when it fails. */
export async function runOnNode(cluster: SimCluster, name: string, argv: string[], stdin?: string): Promise<string> {
  const node = inventoryNodes(cluster).find((n) => n.name === name);
  if (!node) throw new Error(`no node ${name}`);
  const shell = await sshOpener(cluster)(node);
  try {
    return await mustRun(shell, argv, stdin);
  } finally {
    await shell.close();
  }
}
