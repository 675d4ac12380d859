// Static pods of a control-plane node: /etc/kubernetes/manifests polled (inotify does not see
// changes made in the overlay's upper dir from the host), a mirror pod per manifest kept in
// kube-system, and etcd run as etcd.yaml says.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { contentHash, type EtcdRunner, type StaticPodManifest } from './etcd.ts';
import { expectStatus, type KubeRequest } from './kube-client.ts';
import type { SimNodeSpec } from './spec.ts';

export const MANIFEST_DIR = '/etc/kubernetes/manifests';

interface Manifest {
  file: string;
  text: string;
  hash: string;
  parsed: StaticPodManifest;
  podName: string;
}

export interface StaticPodsDeps {
  node: SimNodeSpec;
  request: KubeRequest;
  nodeUid: () => string | undefined;
  etcd: EtcdRunner;
  log: (line: string) => void;
  /** how often an existing mirror pod is checked to be still there */
  verifyEveryMs: number;
  /**
   * The kube-apiserver manifest changed, so the kubelet restarts its container: the API server is away
   * until the promise resolves (the new mirror pod is written only then, as the kubelet can only then).
   */
  restartApiServer?: () => Promise<void>;
  manifestDir?: string;
}

function readManifests(dir: string, log: (line: string) => void, unreadable: Set<string>): Map<string, Manifest> | undefined {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /\.(ya?ml|json)$/.test(n) && !n.startsWith('.'));
  } catch {
    return new Map();
  }
  const found = new Map<string, Manifest>();
  for (const name of names.sort()) {
    const file = join(dir, name);
    try {
      const text = readFileSync(file, 'utf8');
      const parsed = parseYaml(text) as StaticPodManifest;
      const podName = parsed?.metadata?.name;
      if (!podName) throw new Error('metadata.name is missing');
      found.set(podName, { file, text, hash: contentHash(text), parsed, podName });
    } catch (err) {
      // a file caught mid-write: keep the last view and look again next time
      const key = `${file}:${(err as Error).message}`;
      if (!unreadable.has(key)) log(`manifest ${file} is not usable yet: ${(err as Error).message}`);
      unreadable.add(key);
      return undefined;
    }
  }
  return found;
}

function isEtcd(manifest: Manifest): boolean {
  return manifest.podName === 'etcd' || manifest.file.endsWith('/etcd.yaml');
}

function mirrorPod(m: Manifest, node: SimNodeSpec, nodeUid: string, status: unknown): unknown {
  const component = m.parsed.metadata?.labels?.component ?? m.podName;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${m.podName}-${node.name}`,
      namespace: 'kube-system',
      labels: { ...m.parsed.metadata?.labels, component, tier: 'control-plane' },
      annotations: {
        ...m.parsed.metadata?.annotations,
        'kubernetes.io/config.mirror': m.hash,
        'kubernetes.io/config.hash': m.hash,
        'kubernetes.io/config.source': 'file',
        'kubernetes.io/config.seen': new Date().toISOString(),
      },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: node.name, uid: nodeUid, controller: true }],
    },
    spec: { ...m.parsed.spec, nodeName: node.name },
    status,
  };
}

function runningStatus(m: Manifest, node: SimNodeSpec): unknown {
  const now = new Date().toISOString();
  const condition = (type: string) => ({ type, status: 'True', lastTransitionTime: now });
  return {
    phase: 'Running',
    conditions: ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map(condition),
    hostIP: node.address,
    podIP: node.address,
    podIPs: [{ ip: node.address }],
    startTime: now,
    containerStatuses: (m.parsed.spec?.containers ?? []).map((c) => ({
      name: c.name,
      image: (c as { image?: string }).image,
      ready: true,
      started: true,
      restartCount: 0,
      state: { running: { startedAt: now } },
    })),
  };
}

export interface StaticPods {
  /** One look at the manifest directory: etcd and mirror pods follow what is there. */
  sync(): Promise<void>;
}

export function createStaticPods(deps: StaticPodsDeps): StaticPods {
  const { node, request, log } = deps;
  const dir = deps.manifestDir ?? MANIFEST_DIR;
  const podsPath = '/api/v1/namespaces/kube-system/pods';
  const mirrored = new Map<string, { hash: string; verifiedAt: number }>(); // pod name -> what the API has
  const unreadable = new Set<string>();
  let etcdProblem: string | undefined;
  /** the manifest hash the running kube-apiserver was started from */
  let apiServerRunning: string | undefined;

  const deleteMirror = async (podName: string): Promise<void> => {
    const path = `${podsPath}/${podName}-${node.name}`;
    const body = { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0 };
    expectStatus('DELETE', path, await request('DELETE', `${path}?gracePeriodSeconds=0`, body), [404]);
    mirrored.delete(podName);
  };

  const createMirror = async (m: Manifest, nodeUid: string): Promise<void> => {
    const status = runningStatus(m, node);
    const created = await request('POST', podsPath, mirrorPod(m, node, nodeUid, status));
    if (created.status === 409) {
      await deleteMirror(m.podName); // an older mirror pod: replace it
      return createMirror(m, nodeUid);
    }
    expectStatus('POST', podsPath, created);
    const statusPath = `${podsPath}/${m.podName}-${node.name}/status`;
    const patched = await request('PATCH', statusPath, { status }, 'application/strategic-merge-patch+json');
    expectStatus('PATCH', statusPath, patched);
    mirrored.set(m.podName, { hash: m.hash, verifiedAt: Date.now() });
    log(`mirror pod ${m.podName}-${node.name} created (hash ${m.hash.slice(0, 12)})`);
  };

  /** The API may have lost or changed the mirror pod (deleted by someone, server restarted). */
  const stillMirrored = async (m: Manifest): Promise<boolean> => {
    const known = mirrored.get(m.podName);
    if (!known || known.hash !== m.hash) return false;
    if (Date.now() - known.verifiedAt < deps.verifyEveryMs) return true;
    const path = `${podsPath}/${m.podName}-${node.name}`;
    const res = expectStatus('GET', path, await request('GET', path), [404]);
    const hash = (res.body as { metadata?: { annotations?: Record<string, string> } }).metadata?.annotations?.['kubernetes.io/config.hash'];
    if (res.status === 404 || hash !== m.hash) return false;
    known.verifiedAt = Date.now();
    return true;
  };

  const syncMirrors = async (manifests: Map<string, Manifest>): Promise<void> => {
    const nodeUid = deps.nodeUid();
    if (!nodeUid) return; // not registered yet: the owner reference needs the Node's uid
    for (const podName of [...mirrored.keys()]) {
      if (!manifests.has(podName)) {
        await deleteMirror(podName);
        log(`mirror pod ${podName}-${node.name} deleted (manifest removed)`);
      }
    }
    for (const m of manifests.values()) {
      if (m.podName === 'kube-apiserver') {
        if (apiServerRunning !== undefined && apiServerRunning !== m.hash && deps.restartApiServer) {
          log('kube-apiserver manifest changed: restarting kube-apiserver');
          await deps.restartApiServer();
        }
        apiServerRunning = m.hash;
      }
      if (!(await stillMirrored(m))) await createMirror(m, nodeUid);
    }
  };

  return {
    sync: async () => {
      const manifests = readManifests(dir, log, unreadable);
      if (!manifests) return;
      const etcd = [...manifests.values()].find(isEtcd);
      try {
        await deps.etcd.apply(etcd ? { text: etcd.text, parsed: etcd.parsed } : undefined);
        etcdProblem = undefined;
      } catch (err) {
        // report a broken etcd manifest once, and still keep the mirror pods in step
        const message = `cannot run etcd as ${etcd?.file} says: ${(err as Error).message}`;
        if (message !== etcdProblem) log(message);
        etcdProblem = message;
      }
      await syncMirrors(manifests);
    },
  };
}
