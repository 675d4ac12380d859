// The stacked etcd members form ONE cluster as kubeadm makes it: the first control plane's etcd starts alone
// (`kubeadm init`), then for each further control plane `kubeadm join --control-plane` adds its member through
// the running cluster and only then writes its etcd.yaml (--initial-cluster-state=existing), and waits until
// the cluster is healthy again before the next one joins.
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EtcdClient } from '../lib/etcd-client.ts';
import { nodePaths, type ClusterSpec, type SimNodeSpec } from '../node/spec.ts';
import { etcdManifest } from './manifests.ts';
import { etcdHealthy, waitUntil, type ComponentFailure } from './wait.ts';

interface MemberList {
  members?: { ID?: string; name?: string; peerURLs?: string[] }[];
}

export async function joinEtcdMembers(
  spec: ClusterSpec,
  deadline: number,
  alive: () => void,
  blame: (notReady: string[]) => ComponentFailure | undefined,
): Promise<void> {
  const controlPlanes = spec.nodes.filter((n) => n.role === 'control-plane');
  const healthy = (node: SimNodeSpec) => async () =>
    (await etcdHealthy(spec, node)) ? [] : [`${node.name} etcd not healthy at https://${node.address}:2379`];
  const first = controlPlanes[0];
  if (!first) return;
  await waitUntil(`etcd on ${first.name}`, deadline, healthy(first), alive, blame);
  const pki = join(spec.dir, 'pki');
  // kubeadm's own etcd client certificate (the API server's)
  const tls = {
    ca: readFileSync(join(pki, 'etcd-ca.crt'), 'utf8'),
    cert: readFileSync(join(pki, 'apiserver-etcd-client.crt'), 'utf8'),
    key: readFileSync(join(pki, 'apiserver-etcd-client.key'), 'utf8'),
  };
  for (const [i, node] of controlPlanes.entries()) {
    if (i === 0) continue;
    const client = new EtcdClient(
      controlPlanes.slice(0, i).map((n) => `https://${n.address}:2379`),
      tls,
    );
    const peerUrl = `https://${node.address}:2380`;
    const list = await client.post<MemberList>('/v3/cluster/member/list', {});
    if (!list.members?.some((m) => m.peerURLs?.includes(peerUrl))) await client.post('/v3/cluster/member/add', { peerURLs: [peerUrl] });
    const manifest = join(nodePaths(spec.dir, node.name).upperEtc, 'kubernetes', 'manifests', 'etcd.yaml');
    await writeFile(manifest, etcdManifest(spec, node), { mode: 0o600 });
    await waitUntil(`etcd on ${node.name}`, deadline, healthy(node), alive, blame);
  }
}
