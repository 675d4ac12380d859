// The meta.k8s.io/v1 Table format `kubectl get` asks for, with the columns the real printers use.
import type { Obj } from './store.ts';
import { podReady } from './util.ts';

interface Column {
  name: string;
  type: string;
  format?: string;
  priority?: number;
  cell: (obj: Obj) => string | number;
}

/** duration.HumanDuration as kubectl shows ages: "45s", "3m12s", "5h", "2d3h". */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 192) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  const days = Math.floor(hours / 24);
  if (days < 730) return `${days}d`;
  if (days < 2920) return days % 365 === 0 ? `${Math.floor(days / 365)}y` : `${Math.floor(days / 365)}y${days % 365}d`;
  return `${Math.floor(days / 365)}y`;
}

function age(obj: Obj): string {
  const created = Date.parse(obj.metadata?.creationTimestamp ?? '');
  return Number.isNaN(created) ? '<unknown>' : humanDuration(Date.now() - created);
}

const nameColumn: Column = { name: 'Name', type: 'string', format: 'name', cell: (o) => o.metadata.name };
const ageColumn: Column = { name: 'Age', type: 'string', cell: age };

function nodeStatus(node: Obj): string {
  const ready = ((node.status?.conditions ?? []) as Obj[]).find((c) => c.type === 'Ready');
  const parts = [ready ? (ready.status === 'True' ? 'Ready' : 'NotReady') : 'Unknown'];
  if (node.spec?.unschedulable) parts.push('SchedulingDisabled');
  return parts.join(',');
}

function nodeRoles(node: Obj): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries((node.metadata.labels ?? {}) as Record<string, string>)) {
    if (k.startsWith('node-role.kubernetes.io/')) roles.add(k.slice('node-role.kubernetes.io/'.length));
    else if (k === 'kubernetes.io/role' && v) roles.add(v);
  }
  return roles.size ? [...roles].sort().join(',') : '<none>';
}

function address(node: Obj, type: string): string {
  return ((node.status?.addresses ?? []) as Obj[]).find((a) => a.type === type)?.address ?? '<none>';
}

/** The STATUS column of `kubectl get pods`. */
export function podStatusText(pod: Obj): string {
  let reason: string = pod.status?.reason ?? pod.status?.phase ?? 'Unknown';
  let running = false;
  for (const c of [...((pod.status?.containerStatuses ?? []) as Obj[])].reverse()) {
    if (c.state?.waiting?.reason) reason = c.state.waiting.reason;
    else if (c.state?.terminated?.reason) reason = c.state.terminated.reason;
    else if (c.state?.terminated)
      reason = c.state.terminated.signal ? `Signal:${c.state.terminated.signal}` : `ExitCode:${c.state.terminated.exitCode}`;
    else if (c.ready && c.state?.running) running = true;
  }
  if (reason === 'Completed' && running) reason = podReady(pod) ? 'Running' : 'NotReady';
  if (pod.metadata.deletionTimestamp) reason = pod.status?.reason === 'NodeLost' ? 'Unknown' : 'Terminating';
  return reason;
}

function podReadyText(pod: Obj): string {
  const total = (pod.spec?.containers ?? []).length;
  const ready = ((pod.status?.containerStatuses ?? []) as Obj[]).filter((c) => c.ready).length;
  return `${ready}/${total}`;
}

function restarts(pod: Obj): number {
  return ((pod.status?.containerStatuses ?? []) as Obj[]).reduce((n, c) => n + (c.restartCount ?? 0), 0);
}

const columnsByKind: Record<string, Column[]> = {
  Node: [
    nameColumn,
    { name: 'Status', type: 'string', cell: nodeStatus },
    { name: 'Roles', type: 'string', cell: nodeRoles },
    ageColumn,
    { name: 'Version', type: 'string', cell: (n) => n.status?.nodeInfo?.kubeletVersion ?? '' },
    { name: 'Internal-IP', type: 'string', priority: 1, cell: (n) => address(n, 'InternalIP') },
    { name: 'External-IP', type: 'string', priority: 1, cell: (n) => address(n, 'ExternalIP') },
    { name: 'OS-Image', type: 'string', priority: 1, cell: (n) => n.status?.nodeInfo?.osImage ?? '<unknown>' },
    { name: 'Kernel-Version', type: 'string', priority: 1, cell: (n) => n.status?.nodeInfo?.kernelVersion ?? '<unknown>' },
    { name: 'Container-Runtime', type: 'string', priority: 1, cell: (n) => n.status?.nodeInfo?.containerRuntimeVersion ?? '<unknown>' },
  ],
  Pod: [
    nameColumn,
    { name: 'Ready', type: 'string', cell: podReadyText },
    { name: 'Status', type: 'string', cell: podStatusText },
    { name: 'Restarts', type: 'string', cell: (p) => String(restarts(p)) },
    ageColumn,
    { name: 'IP', type: 'string', priority: 1, cell: (p) => p.status?.podIP ?? '<none>' },
    { name: 'Node', type: 'string', priority: 1, cell: (p) => p.spec?.nodeName || '<none>' },
    { name: 'Nominated Node', type: 'string', priority: 1, cell: (p) => p.status?.nominatedNodeName ?? '<none>' },
    { name: 'Readiness Gates', type: 'string', priority: 1, cell: () => '<none>' },
  ],
  Namespace: [nameColumn, { name: 'Status', type: 'string', cell: (n) => n.status?.phase ?? '' }, ageColumn],
  Deployment: [
    nameColumn,
    { name: 'Ready', type: 'string', cell: (d) => `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 0}` },
    { name: 'Up-to-date', type: 'integer', cell: (d) => d.status?.updatedReplicas ?? 0 },
    { name: 'Available', type: 'integer', cell: (d) => d.status?.availableReplicas ?? 0 },
    ageColumn,
  ],
  ReplicaSet: [
    nameColumn,
    { name: 'Desired', type: 'integer', cell: (r) => r.spec?.replicas ?? 0 },
    { name: 'Current', type: 'integer', cell: (r) => r.status?.replicas ?? 0 },
    { name: 'Ready', type: 'integer', cell: (r) => r.status?.readyReplicas ?? 0 },
    ageColumn,
  ],
  DaemonSet: [
    nameColumn,
    { name: 'Desired', type: 'integer', cell: (d) => d.status?.desiredNumberScheduled ?? 0 },
    { name: 'Current', type: 'integer', cell: (d) => d.status?.currentNumberScheduled ?? 0 },
    { name: 'Ready', type: 'integer', cell: (d) => d.status?.numberReady ?? 0 },
    { name: 'Up-to-date', type: 'integer', cell: (d) => d.status?.updatedNumberScheduled ?? 0 },
    { name: 'Available', type: 'integer', cell: (d) => d.status?.numberAvailable ?? 0 },
    {
      name: 'Node Selector',
      type: 'string',
      cell: (d) =>
        Object.entries((d.spec?.template?.spec?.nodeSelector ?? {}) as Record<string, string>)
          .map(([k, v]) => `${k}=${v}`)
          .join(',') || '<none>',
    },
    ageColumn,
  ],
  PodDisruptionBudget: [
    nameColumn,
    { name: 'Min Available', type: 'string', cell: (p) => (p.spec?.minAvailable === undefined ? 'N/A' : String(p.spec.minAvailable)) },
    {
      name: 'Max Unavailable',
      type: 'string',
      cell: (p) => (p.spec?.maxUnavailable === undefined ? 'N/A' : String(p.spec.maxUnavailable)),
    },
    { name: 'Allowed Disruptions', type: 'integer', cell: (p) => p.status?.disruptionsAllowed ?? 0 },
    ageColumn,
  ],
  ConfigMap: [
    nameColumn,
    { name: 'Data', type: 'integer', cell: (c) => Object.keys(c.data ?? {}).length + Object.keys(c.binaryData ?? {}).length },
    ageColumn,
  ],
  Lease: [nameColumn, { name: 'Holder', type: 'string', cell: (l) => l.spec?.holderIdentity ?? '' }, ageColumn],
  Job: [
    nameColumn,
    {
      name: 'Status',
      type: 'string',
      cell: (j) =>
        ((j.status?.conditions ?? []) as Obj[]).some((c) => c.type === 'Complete' && c.status === 'True') ? 'Complete' : 'Running',
    },
    { name: 'Completions', type: 'string', cell: (j) => `${j.status?.succeeded ?? 0}/${j.spec?.completions ?? 1}` },
    ageColumn,
  ],
  Service: [
    nameColumn,
    { name: 'Type', type: 'string', cell: (s) => s.spec?.type ?? 'ClusterIP' },
    { name: 'Cluster-IP', type: 'string', cell: (s) => s.spec?.clusterIP ?? '<none>' },
    { name: 'External-IP', type: 'string', cell: () => '<none>' },
    {
      name: 'Port(s)',
      type: 'string',
      cell: (s) => ((s.spec?.ports ?? []) as Obj[]).map((p) => `${p.port}/${p.protocol ?? 'TCP'}`).join(',') || '<none>',
    },
    ageColumn,
  ],
};

function rowObject(obj: Obj, include: string): Obj | undefined {
  if (include === 'None') return undefined;
  if (include === 'Object') return obj;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}

/** A Table of objects of one kind. `include` is the includeObject parameter (Metadata by default). */
export function renderTable(kind: string, objects: Obj[], listMeta: Obj, include = 'Metadata'): Obj {
  const columns = columnsByKind[kind] ?? [nameColumn, ageColumn];
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    columnDefinitions: columns.map((c) => ({
      name: c.name,
      type: c.type,
      format: c.format ?? '',
      description: '',
      priority: c.priority ?? 0,
    })),
    rows: objects.map((obj) => {
      const row: Obj = { cells: columns.map((c) => c.cell(obj)) };
      const embedded = rowObject(obj, include);
      if (embedded) row.object = embedded;
      return row;
    }),
  };
}

/** True when the Accept header asks for a meta.k8s.io Table. */
export function wantsTable(accept: string | undefined): boolean {
  return /as=Table/.test(accept ?? '') && /g=meta\.k8s\.io/.test(accept ?? '');
}
