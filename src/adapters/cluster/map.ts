// Maps Kubernetes API objects (as @kubernetes/client-node returns them) to the plain ClusterState values.
// Pure functions: unit-tested from object literals.
import type { V1Node, V1Pod, V1PodDisruptionBudget, V1ResourceRequirements, V1Container } from '@kubernetes/client-node';
import YAML from 'yaml';
import { CORDON_MARK, progressFrom } from './progress.ts';
import type {
  BudgetObservation,
  ControlPlaneComponent,
  ControlPlanePod,
  KubeadmClusterConfig,
  LabelSelector,
  NodeObservation,
  PodObservation,
  Quantity,
} from '../../core/cluster-state.ts';

export const CONTROL_PLANE_COMPONENTS: readonly ControlPlaneComponent[] = [
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'etcd',
];
const CONTROL_PLANE_ROLE_LABEL = 'node-role.kubernetes.io/control-plane';
const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';

const BINARY_SUFFIX: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL_SUFFIX: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** A Kubernetes resource quantity ("250m", "1.5Gi", "1e3") in base units; 0 when absent or unreadable. */
export function parseQuantity(value: string | number | undefined): number {
  if (value === undefined) return 0;
  if (typeof value === 'number') return value;
  const match = /^([+-]?\d+(?:\.\d+)?|[+-]?\.\d+)(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$/.exec(value.trim());
  if (!match) return 0;
  const number = Number(match[1]);
  if (match[2]) return number * 10 ** Number(match[2].slice(1));
  const suffix = match[3] ?? '';
  return number * (BINARY_SUFFIX[suffix] ?? DECIMAL_SUFFIX[suffix] ?? 1);
}

export function withoutV(version: string | undefined): string {
  return (version ?? '').replace(/^v/, '');
}

/**
 * True when this Action's own unfinished run left the node cordoned: its cordon carries our mark (set with the
 * cordon, so an interrupted drain counts too), or it was drained and not yet uncordoned; never when a drain found
 * it cordoned before (the operator's fence).
 */
function cordonedByUpgrade(node: V1Node): boolean {
  const annotations = node.metadata?.annotations ?? {};
  const progress = progressFrom(annotations);
  const drained = !!progress?.doneStages.includes('drain') && !progress.doneStages.includes('uncordon');
  return node.spec?.unschedulable === true && (CORDON_MARK in annotations || drained) && !progress?.cordonedBefore;
}

export function mapNode(node: V1Node): NodeObservation {
  const labels = node.metadata?.labels ?? {};
  const allocatable = node.status?.allocatable ?? {};
  const internalIP = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
  const machineID = node.status?.nodeInfo?.machineID;
  return {
    name: node.metadata?.name ?? '',
    role: CONTROL_PLANE_ROLE_LABEL in labels ? 'control-plane' : 'worker',
    ready: node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
    unschedulable: node.spec?.unschedulable === true,
    ...(cordonedByUpgrade(node) ? { cordonedByUpgrade: true } : {}),
    kubeletVersion: withoutV(node.status?.nodeInfo?.kubeletVersion),
    ...(internalIP ? { internalIP } : {}),
    ...(machineID ? { machineID } : {}),
    labels,
    taints: (node.spec?.taints ?? []).map((t) => ({ key: t.key, ...(t.value !== undefined ? { value: t.value } : {}), effect: t.effect })),
    allocatable: {
      cpuMilli: Math.round(parseQuantity(allocatable.cpu) * 1000),
      memoryBytes: Math.round(parseQuantity(allocatable.memory)),
      pods: Math.round(parseQuantity(allocatable.pods)),
    },
  };
}

function requestsOf(resources: V1ResourceRequirements | undefined): Quantity {
  const requests = resources?.requests ?? {};
  return { cpuMilli: Math.round(parseQuantity(requests.cpu) * 1000), memoryBytes: Math.round(parseQuantity(requests.memory)) };
}

/** What the scheduler counts: the sum over containers, or the largest init container when that is more. */
export function podRequests(containers: V1Container[], initContainers: V1Container[] = []): Quantity {
  const sum = containers
    .map((c) => requestsOf(c.resources))
    .reduce((a, b) => ({ cpuMilli: a.cpuMilli + b.cpuMilli, memoryBytes: a.memoryBytes + b.memoryBytes }), { cpuMilli: 0, memoryBytes: 0 });
  for (const init of initContainers.map((c) => requestsOf(c.resources))) {
    sum.cpuMilli = Math.max(sum.cpuMilli, init.cpuMilli);
    sum.memoryBytes = Math.max(sum.memoryBytes, init.memoryBytes);
  }
  return sum;
}

function isReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

export function mapPod(pod: V1Pod): PodObservation {
  const controller = pod.metadata?.ownerReferences?.find((o) => o.controller === true);
  return {
    namespace: pod.metadata?.namespace ?? '',
    name: pod.metadata?.name ?? '',
    uid: pod.metadata?.uid ?? '',
    node: pod.spec?.nodeName ?? '',
    phase: pod.status?.phase ?? 'Unknown',
    ready: isReady(pod),
    terminating: pod.metadata?.deletionTimestamp !== undefined,
    labels: pod.metadata?.labels ?? {},
    ...(controller ? { controllerKind: controller.kind, controllerName: controller.name } : {}),
    mirror: MIRROR_ANNOTATION in (pod.metadata?.annotations ?? {}),
    emptyDir: pod.spec?.volumes?.some((v) => v.emptyDir !== undefined) ?? false,
    requests: podRequests(pod.spec?.containers ?? [], pod.spec?.initContainers ?? []),
    ...tolerated(pod),
  };
}

/** The taint keys a pod tolerates where it matters for placement (NoSchedule, NoExecute, or any effect). */
function tolerated(pod: V1Pod): Pick<PodObservation, 'tolerates'> {
  const keys = new Set<string>();
  for (const t of pod.spec?.tolerations ?? []) {
    if (t.effect && t.effect !== 'NoSchedule' && t.effect !== 'NoExecute') continue;
    if (!t.key) {
      if (t.operator === 'Exists') keys.add('*');
      continue;
    }
    keys.add(t.key);
  }
  return keys.size > 0 ? { tolerates: [...keys].sort() } : {};
}

/** The tag of an image reference without "v" and without a digest: "registry.k8s.io/etcd:3.5.15-0" → "3.5.15-0". */
export function imageVersion(image: string): string {
  const withoutDigest = image.split('@')[0] ?? image;
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  return colon > lastSlash ? withoutV(withoutDigest.slice(colon + 1)) : '';
}

/** Control-plane static pods: mirror pods in kube-system labelled component=<one of the four>. */
export function mapControlPlanePod(pod: V1Pod): ControlPlanePod | undefined {
  const component = pod.metadata?.labels?.component as ControlPlaneComponent | undefined;
  if (pod.metadata?.namespace !== 'kube-system' || !component || !CONTROL_PLANE_COMPONENTS.includes(component)) return undefined;
  if (!(MIRROR_ANNOTATION in (pod.metadata?.annotations ?? {}))) return undefined;
  const containers = pod.spec?.containers ?? [];
  const image = (containers.find((c) => c.name === component) ?? containers[0])?.image ?? '';
  return {
    node: pod.spec?.nodeName ?? '',
    component,
    image,
    version: imageVersion(image),
    running: pod.status?.phase === 'Running',
    ready: isReady(pod),
  };
}

export function mapBudget(pdb: V1PodDisruptionBudget): BudgetObservation {
  const selector = pdb.spec?.selector;
  const mapped: LabelSelector = {
    ...(selector?.matchLabels ? { matchLabels: selector.matchLabels } : {}),
    ...(selector?.matchExpressions
      ? {
          matchExpressions: selector.matchExpressions.map((e) => ({
            key: e.key,
            operator: e.operator as NonNullable<LabelSelector['matchExpressions']>[number]['operator'],
            ...(e.values ? { values: e.values } : {}),
          })),
        }
      : {}),
  };
  return {
    namespace: pdb.metadata?.namespace ?? '',
    name: pdb.metadata?.name ?? '',
    selector: mapped,
    ...(pdb.spec?.minAvailable !== undefined ? { minAvailable: pdb.spec.minAvailable } : {}),
    ...(pdb.spec?.maxUnavailable !== undefined ? { maxUnavailable: pdb.spec.maxUnavailable } : {}),
    disruptionsAllowed: pdb.status?.disruptionsAllowed ?? 0,
    currentHealthy: pdb.status?.currentHealthy ?? 0,
    desiredHealthy: pdb.status?.desiredHealthy ?? 0,
    expectedPods: pdb.status?.expectedPods ?? 0,
  };
}

/** kube-system/kubeadm-config's ClusterConfiguration (v1beta3 or v1beta4 YAML). */
export function parseClusterConfiguration(text: string | undefined): KubeadmClusterConfig | undefined {
  if (!text) return undefined;
  const doc: unknown = YAML.parse(text, { maxAliasCount: 100 });
  if (!doc || typeof doc !== 'object') return undefined;
  const config = doc as { kubernetesVersion?: string; clusterName?: string; controlPlaneEndpoint?: string; etcd?: { external?: unknown } };
  return {
    kubernetesVersion: withoutV(config.kubernetesVersion),
    ...(config.clusterName ? { clusterName: config.clusterName } : {}),
    ...(config.controlPlaneEndpoint ? { controlPlaneEndpoint: config.controlPlaneEndpoint } : {}),
    etcdLocal: config.etcd?.external === undefined,
  };
}
