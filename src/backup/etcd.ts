// etcd snapshot and restore with kubeadm's layout: the endpoint and member flags come from the etcd static
// pod manifest, the client certificate is kubeadm's etcd healthcheck client under /etc/kubernetes/pki/etcd/.
// etcdctl runs on the host when it has one, otherwise inside the etcd container (`crictl exec`), where
// only the data dir's parent (/var/lib/etcd is a hostPath) and the etcd pki are shared with the host.
import { parse as parseYaml } from 'yaml';
import type { NodeShell } from '../adapters/transport/node-shell.ts';
import { runAsRoot, tryAsRoot } from './remote.ts';
import type { EtcdMember, EtcdSnapshotStatus } from './types.ts';

export const ETCD_MANIFEST = '/etc/kubernetes/manifests/etcd.yaml';
const SNAPSHOT_TIMEOUT_MS = 600_000;

export interface EtcdAccess {
  endpoint: string;
  cacert: string;
  cert: string;
  key: string;
  external: boolean;
}

/** The etcd container's flags from its static pod manifest, name → value. */
export function etcdFlags(manifestYaml: string): Map<string, string> {
  const manifest = parseYaml(manifestYaml) as { spec?: { containers?: { name?: string; command?: string[]; args?: string[] }[] } } | null;
  const containers = manifest?.spec?.containers ?? [];
  const etcd = containers.find((c) => c.name === 'etcd') ?? containers[0];
  const flags = new Map<string, string>();
  for (const word of [...(etcd?.command ?? []), ...(etcd?.args ?? [])]) {
    const match = /^--?([a-z0-9-]+)(?:=(.*))?$/.exec(word);
    if (match?.[1]) flags.set(match[1], match[2] ?? 'true');
  }
  if (flags.size === 0) throw new Error('the etcd static pod manifest has no etcd command line');
  return flags;
}

/** Where to reach this member and with which kubeadm client certificate. Prefers the loopback listen URL. */
export function etcdAccessFromManifest(manifestYaml: string): EtcdAccess {
  const flags = etcdFlags(manifestYaml);
  const urls = (flags.get('listen-client-urls') ?? flags.get('advertise-client-urls') ?? '').split(',').filter(Boolean);
  const endpoint = urls.find((u) => /\/\/(127\.0\.0\.1|localhost)[:/]/.test(u)) ?? urls[0];
  if (!endpoint) throw new Error('the etcd manifest names no client URL (--listen-client-urls)');
  const cacert = flags.get('trusted-ca-file') ?? '/etc/kubernetes/pki/etcd/ca.crt';
  const pkiDir = cacert.slice(0, cacert.lastIndexOf('/')) || '/etc/kubernetes/pki/etcd';
  return { endpoint, cacert, cert: `${pkiDir}/healthcheck-client.crt`, key: `${pkiDir}/healthcheck-client.key`, external: false };
}

/** The member flags a restore must repeat (kubeadm sets no --initial-cluster-token: etcd's default). */
export function etcdMemberFromManifest(manifestYaml: string): EtcdMember {
  const flags = etcdFlags(manifestYaml);
  const name = flags.get('name');
  const peerUrls = flags.get('initial-advertise-peer-urls');
  if (!name || !peerUrls) throw new Error('the etcd manifest lacks --name or --initial-advertise-peer-urls');
  return {
    name,
    dataDir: flags.get('data-dir') ?? '/var/lib/etcd',
    initialCluster: flags.get('initial-cluster') ?? `${name}=${peerUrls}`,
    initialAdvertisePeerUrls: peerUrls,
    initialClusterToken: flags.get('initial-cluster-token') ?? 'etcd-cluster',
  };
}

/**
 * The members of a stacked etcd cluster as a restore must recreate them: each under its own name and peer URL,
 * all with the SAME --initial-cluster (every member) and token, as etcd's disaster-recovery guide requires. A
 * member's own manifest is not enough: kubeadm writes --initial-cluster as the cluster was when that member
 * joined (the first control plane lists only itself), so restoring each from its own list would create
 * separate clusters.
 */
export function clusterRestoreMembers(recorded: { node: string; manifest: string }[]): EtcdMember[] {
  const members = recorded.map((r) => ({ node: r.node, member: etcdMemberFromManifest(r.manifest) }));
  const own = new Map(members.map(({ member }) => [member.name, member.initialAdvertisePeerUrls]));
  for (const { node, member } of members) {
    for (const entry of member.initialCluster.split(',').filter(Boolean)) {
      const eq = entry.indexOf('=');
      const name = entry.slice(0, eq);
      const url = entry.slice(eq + 1);
      if (!own.has(name))
        throw new Error(
          `refusing to roll back: etcd member ${name} (${url}, named in ${node}'s etcd manifest) is not a control plane of the inventory; ` +
            'a restore must recreate every member at once: add that control plane to the inventory, or remove the member (etcdctl member remove) first',
        );
    }
  }
  const tokens = new Set(members.map(({ member }) => member.initialClusterToken));
  if (tokens.size > 1)
    throw new Error(`refusing to roll back: the etcd manifests disagree on --initial-cluster-token (${[...tokens].join(', ')})`);
  const initialCluster = members.map(({ member }) => `${member.name}=${member.initialAdvertisePeerUrls}`).join(',');
  return members.map(({ member }) => ({ ...member, initialCluster }));
}

function tlsArgs(access: EtcdAccess): string[] {
  return [`--endpoints=${access.endpoint}`, `--cacert=${access.cacert}`, `--cert=${access.cert}`, `--key=${access.key}`];
}

/** How etcdctl runs on this node: the host's binary, or inside the running etcd container. */
export async function etcdctlRunner(shell: NodeShell): Promise<{ via: 'host' | 'crictl'; prefix: string[] }> {
  const onHost = await tryAsRoot(shell, ['sh', '-c', 'command -v etcdctl']);
  if (onHost.code === 0 && onHost.stdout.trim()) return { via: 'host', prefix: ['etcdctl'] };
  const ids = await runAsRoot(shell, ['crictl', 'ps', '--name', '^etcd$', '-q'], 'finding the etcd container (the host has no etcdctl)');
  const id = ids.split('\n').find(Boolean);
  if (!id) throw new Error(`${shell.node} has no etcdctl and no running etcd container to run it in`);
  return { via: 'crictl', prefix: ['crictl', 'exec', id, 'etcdctl'] };
}

export function parseSnapshotStatus(json: string): EtcdSnapshotStatus {
  const raw = JSON.parse(json) as Partial<EtcdSnapshotStatus>;
  const status = { hash: raw.hash, revision: raw.revision, totalKey: raw.totalKey, totalSize: raw.totalSize };
  for (const [k, v] of Object.entries(status)) {
    if (typeof v !== 'number') throw new Error(`etcdctl snapshot status printed no ${k}: ${json.slice(0, 200)}`);
  }
  return status as EtcdSnapshotStatus;
}

/**
 * Saves a snapshot to `target` on the node and checks it with `etcdctl snapshot status`. Inside a container
 * the snapshot is written next to the data dir (shared with the host) and then moved.
 */
export async function saveSnapshot(
  shell: NodeShell,
  access: EtcdAccess,
  target: string,
  dataDir = '/var/lib/etcd',
): Promise<{ status: EtcdSnapshotStatus; via: 'host' | 'crictl' }> {
  const etcdctl = await etcdctlRunner(shell);
  const inside = etcdctl.via === 'crictl' ? `${dataDir}/kubeadm-upgrade-action-snapshot.db` : target;
  const env = ['env', 'ETCDCTL_API=3'];
  const argv = (rest: string[]) => (etcdctl.via === 'host' ? [...env, ...etcdctl.prefix, ...rest] : [...etcdctl.prefix, ...rest]);
  await runAsRoot(shell, argv([...tlsArgs(access), 'snapshot', 'save', inside]), 'etcdctl snapshot save', {
    timeoutMs: SNAPSHOT_TIMEOUT_MS,
  });
  const json = await runAsRoot(shell, argv(['snapshot', 'status', inside, '-w', 'json']), 'etcdctl snapshot status');
  if (inside !== target) await runAsRoot(shell, ['mv', '-f', '--', inside, target], 'moving the snapshot out of the etcd data dir');
  return { status: parseSnapshotStatus(json), via: etcdctl.via };
}

/** Whether this member answers `etcdctl endpoint health` on its own client URL (the manifest's). */
export async function memberHealthy(shell: NodeShell, access: EtcdAccess): Promise<boolean> {
  const etcdctl = await etcdctlRunner(shell);
  const argv = [...(etcdctl.via === 'host' ? ['env', 'ETCDCTL_API=3'] : []), ...etcdctl.prefix, ...tlsArgs(access), 'endpoint', 'health'];
  return (await tryAsRoot(shell, argv, { timeoutMs: 30_000 })).code === 0;
}

/** `etcdctl snapshot status` of a snapshot file on the node (the host's etcdctl; restore needs it anyway). */
export async function snapshotStatus(shell: NodeShell, path: string): Promise<EtcdSnapshotStatus> {
  return parseSnapshotStatus(
    await runAsRoot(shell, ['env', 'ETCDCTL_API=3', 'etcdctl', 'snapshot', 'status', path, '-w', 'json'], 'etcdctl snapshot status'),
  );
}

/** Restores a snapshot into a fresh data dir for this member (the data dir must not exist). */
export async function restoreSnapshot(shell: NodeShell, snapshot: string, member: EtcdMember): Promise<void> {
  await runAsRoot(
    shell,
    [
      'env',
      'ETCDCTL_API=3',
      'etcdctl',
      'snapshot',
      'restore',
      snapshot,
      `--name=${member.name}`,
      `--data-dir=${member.dataDir}`,
      `--initial-cluster=${member.initialCluster}`,
      `--initial-cluster-token=${member.initialClusterToken}`,
      `--initial-advertise-peer-urls=${member.initialAdvertisePeerUrls}`,
    ],
    'etcdctl snapshot restore',
    { timeoutMs: SNAPSHOT_TIMEOUT_MS },
  );
}
