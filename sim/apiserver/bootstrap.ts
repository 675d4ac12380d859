// What a fresh API server holds before anyone talks to it (the default namespaces and the
// `kubernetes` Service), and the api-only workers: thousands of Ready Node objects with Running pods,
// stored in bulk (no events, shared sub-objects) so 5,000 nodes and 150,000 pods load in seconds.
import type { ObjectApi } from './objects.ts';
import { R } from './resources.ts';
import type { Obj } from './store.ts';
import { newUid, ownerRef, templateHash, timeNow } from './util.ts';

export const BULK_NAMESPACE = 'sim-bulk';
const API_ONLY_LABEL = 'sim.kubeadm-upgrade-action/api-only';

export function bootstrap(api: ObjectApi): void {
  for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
    if (!api.store.get(R.namespaces, undefined, name)) api.create(R.namespaces, undefined, { metadata: { name } });
  }
  if (!api.store.get(R.services, 'default', 'kubernetes')) {
    api.create(R.services, 'default', {
      metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } },
      spec: { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }] },
    });
  }
}

export interface ApiOnlyWorkerOptions {
  count: number;
  podsPerNode: number;
  /** kubelet version, "1.30.5" */
  version: string;
}

export function apiOnlyWorkerName(i: number): string {
  return `api-worker-${String(i).padStart(5, '0')}`;
}

function nodeObject(i: number, version: string, created: string): Obj {
  const name = apiOnlyWorkerName(i);
  const ip = `127.250.${(i >> 8) & 255}.${i & 255}`;
  const capacity = { cpu: '4', memory: '16Gi', pods: '110', 'ephemeral-storage': '100Gi' };
  const heartbeat = { lastHeartbeatTime: created, lastTransitionTime: created };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      uid: newUid(),
      creationTimestamp: created,
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': 'linux',
        'beta.kubernetes.io/arch': 'amd64',
        'topology.kubernetes.io/zone': `zone-${'abc'[i % 3]}`,
        [API_ONLY_LABEL]: 'true',
      },
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
    },
    spec: { podCIDR: `10.${128 + (i >> 8)}.${i & 255}.0/24`, podCIDRs: [`10.${128 + (i >> 8)}.${i & 255}.0/24`] },
    status: {
      capacity,
      allocatable: capacity,
      conditions: [
        {
          type: 'MemoryPressure',
          status: 'False',
          reason: 'KubeletHasSufficientMemory',
          message: 'kubelet has sufficient memory available',
          ...heartbeat,
        },
        {
          type: 'DiskPressure',
          status: 'False',
          reason: 'KubeletHasNoDiskPressure',
          message: 'kubelet has no disk pressure',
          ...heartbeat,
        },
        {
          type: 'PIDPressure',
          status: 'False',
          reason: 'KubeletHasSufficientPID',
          message: 'kubelet has sufficient PID available',
          ...heartbeat,
        },
        { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', ...heartbeat },
      ],
      addresses: [
        { type: 'InternalIP', address: ip },
        { type: 'Hostname', address: name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: newUid().replace(/-/g, ''),
        systemUUID: newUid(),
        bootID: newUid(),
        kernelVersion: '6.1.0-25-amd64',
        osImage: 'Debian GNU/Linux 12 (bookworm)',
        containerRuntimeVersion: 'containerd://1.7.22',
        kubeletVersion: `v${version}`,
        kubeProxyVersion: `v${version}`,
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
    },
  };
}

const appImage = 'registry.example/sim/app:1.0';

function bulkTemplate(): Obj {
  return {
    metadata: { labels: { app: 'bulk' } },
    spec: {
      terminationGracePeriodSeconds: 5,
      containers: [{ name: 'app', image: appImage, resources: { requests: { cpu: '10m', memory: '16Mi' } } }],
    },
  };
}

/** Stores the api-only workers, one ReplicaSet app-NNNNN per node, and its pods already Running there. */
export function createApiOnlyWorkers(api: ObjectApi, options: ApiOnlyWorkerOptions): void {
  const store = api.store;
  if (options.podsPerNode > 0 && !store.get(R.namespaces, undefined, BULK_NAMESPACE)) {
    api.create(R.namespaces, undefined, { metadata: { name: BULK_NAMESPACE } });
  }
  const created = timeNow();
  const template = bulkTemplate();
  const hash = templateHash(template);
  // Shared, never mutated: every write in this server stores a new object.
  const podSpec =
    options.podsPerNode > 0
      ? api.create(R.pods, BULK_NAMESPACE, { metadata: { name: 'shape' }, spec: template.spec }, { dryRun: true }).spec
      : {};
  const containerStatuses = [
    {
      name: 'app',
      image: appImage,
      imageID: `${appImage}@sha256:${'0'.repeat(64)}`,
      containerID: 'containerd://0',
      ready: true,
      started: true,
      restartCount: 0,
      state: { running: { startedAt: created } },
      lastState: {},
    },
  ];
  const conditions = ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({
    type,
    status: 'True',
    lastProbeTime: null,
    lastTransitionTime: created,
  }));
  let podNumber = 0;
  for (let i = 1; i <= options.count; i++) {
    const node = nodeObject(i, options.version, created);
    store.add(R.nodes, node, { bulk: true });
    if (options.podsPerNode === 0) continue;
    const rsName = `app-${String(i).padStart(5, '0')}`;
    const rs: Obj = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: rsName,
        namespace: BULK_NAMESPACE,
        uid: newUid(),
        creationTimestamp: created,
        generation: 1,
        labels: { app: 'bulk', 'pod-template-hash': hash },
      },
      spec: {
        replicas: options.podsPerNode,
        selector: { matchLabels: { app: 'bulk', 'pod-template-hash': hash, 'sim-set': rsName } },
        template: { metadata: { labels: { app: 'bulk', 'pod-template-hash': hash, 'sim-set': rsName } }, spec: template.spec },
      },
      status: {
        replicas: options.podsPerNode,
        fullyLabeledReplicas: options.podsPerNode,
        readyReplicas: options.podsPerNode,
        availableReplicas: options.podsPerNode,
        observedGeneration: 1,
      },
    };
    store.add(R.replicasets, rs, { bulk: true });
    const owner = [ownerRef(rs, 'apps/v1', 'ReplicaSet')];
    const labels = rs.spec.template.metadata.labels;
    const hostIP = node.status.addresses[0].address;
    for (let p = 0; p < options.podsPerNode; p++) {
      podNumber += 1;
      const podIP = `10.${(podNumber >> 16) + 128}.${(podNumber >> 8) & 255}.${podNumber & 255}`;
      store.add(
        R.pods,
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {
            name: `${rsName}-${String(p).padStart(5, '0')}`,
            namespace: BULK_NAMESPACE,
            uid: newUid(),
            creationTimestamp: created,
            labels,
            ownerReferences: owner,
          },
          spec: { ...podSpec, nodeName: node.metadata.name },
          status: {
            phase: 'Running',
            conditions,
            hostIP,
            hostIPs: [{ ip: hostIP }],
            podIP,
            podIPs: [{ ip: podIP }],
            startTime: created,
            containerStatuses,
            qosClass: 'Burstable',
          },
        },
        { bulk: true },
      );
    }
  }
}
