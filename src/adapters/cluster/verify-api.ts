// After an upgrade: does the cluster show the target everywhere? Read-only checks through the API (the
// optional smoke workload aside), one result per item, each naming the nodes involved.
import { randomBytes } from 'node:crypto';
import type { Permission } from '../../core/permissions.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Pod } from '@kubernetes/client-node';
import type { ControlPlaneComponent } from '../../core/cluster-state.ts';
import { imageVersion, mapControlPlanePod, mapNode, parseClusterConfiguration, withoutV } from './map.ts';
import { listAll } from './read-cluster.ts';
import { apiFailure, isNotFound, type ClusterApis } from './progress.ts';

export interface SmokeWorkload {
  /** a small image that starts and stays running, e.g. registry.k8s.io/pause:3.10 */
  image: string;
  timeoutMs: number;
  pollIntervalMs?: number;
  /** bind the pod to this node instead of letting the scheduler choose */
  nodeName?: string;
}

export interface VerifyExpectation {
  /** the target version, "1.31.2" */
  version: string;
  /**
   * Images the control-plane static pods must run. A kube-* component without one here is checked by
   * its tag (v<version>, whatever the registry); etcd only when given.
   */
  controlPlaneImages?: Partial<Record<ControlPlaneComponent, string>>;
  /** the CoreDNS image kubeadm sets for the target; CoreDNS is checked only when this or coreDNSVersion is given */
  coreDNSImage?: string;
  /** the CoreDNS tag kubeadm announced for the target (from `kubeadm upgrade plan`), e.g. "v1.11.3" */
  coreDNSVersion?: string;
  /** the kube-proxy image; when absent, checked by its tag v<version> */
  kubeProxyImage?: string;
  /** only these nodes (default: every node) */
  nodes?: string[];
  /** create a pod in a temporary namespace, wait until Ready, delete it */
  smoke?: SmokeWorkload;
}

export interface VerifyCheck {
  name: 'nodes-ready' | 'kubelet-version' | 'control-plane-pods' | 'coredns' | 'kube-proxy' | 'kubeadm-config' | 'smoke-workload';
  ok: boolean;
  message: string;
  /** nodes the message is about (the failing ones when not ok) */
  nodes: string[];
}

export interface VerifyResult {
  ok: boolean;
  checks: VerifyCheck[];
}

type VerifyApis = Pick<ClusterApis, 'core' | 'apps'>;
type Check = Omit<VerifyCheck, 'name'>;

const KUBE_COMPONENTS: ControlPlaneComponent[] = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'];

/** An image is what was expected: the same reference (a digest aside), or by tag when only a version is known. */
export function imageMatches(actual: string | undefined, expected: { image?: string; version?: string }): boolean {
  if (!actual) return false;
  if (expected.image) return actual === expected.image || actual.split('@')[0] === expected.image.split('@')[0];
  return imageVersion(actual) === withoutV(expected.version);
}

function describeExpected(expected: { image?: string; version?: string }): string {
  return expected.image ?? `tag v${withoutV(expected.version)}`;
}

const sortedUnique = (names: string[]): string[] => [...new Set(names)].sort();

async function guarded(run: () => Promise<Check>): Promise<Check> {
  try {
    return await run();
  } catch (error) {
    return { ok: false, message: `cannot check: ${apiFailure(error).message}`, nodes: [] };
  }
}

function podReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** A workload's template image and its pods: all on the expected image, Running and Ready. */
function workloadCheck(
  what: string,
  templateImage: string | undefined,
  pods: V1Pod[],
  container: string,
  expected: { image?: string; version?: string },
): Check {
  const want = describeExpected(expected);
  if (!imageMatches(templateImage, expected))
    return { ok: false, message: `${what} template runs ${templateImage ?? '(no image)'}, expected ${want}`, nodes: [] };
  const imageOf = (pod: V1Pod) => (pod.spec?.containers.find((c) => c.name === container) ?? pod.spec?.containers[0])?.image;
  const lagging = pods.filter((pod) => !imageMatches(imageOf(pod), expected) || pod.status?.phase !== 'Running' || !podReady(pod));
  if (lagging.length > 0) {
    const list = lagging.map(
      (p) => `${p.metadata?.name} (${imageOf(p)}, ${p.status?.phase ?? 'Unknown'}${podReady(p) ? '' : ', not Ready'})`,
    );
    return {
      ok: false,
      message: `${what}: ${lagging.length} of ${pods.length} pods not yet Running and Ready on ${want}: ${list.join(', ')}`,
      nodes: sortedUnique(lagging.map((p) => p.spec?.nodeName ?? '').filter(Boolean)),
    };
  }
  return {
    ok: true,
    message: `${what} runs ${want} (${pods.length} pods Running and Ready)`,
    nodes: sortedUnique(pods.map((p) => p.spec?.nodeName ?? '').filter(Boolean)),
  };
}

/** Creates the smoke pod and waits until it is Ready; the caller removes the namespace. */
/** The calls of verifyCluster's read-only checks. */
export const VERIFY_ACCESS: readonly Permission[] = [
  { verb: 'list', group: '', resource: 'nodes', why: 'verify: nodes Ready at the target' },
  { verb: 'list', group: '', resource: 'pods', namespace: 'kube-system', why: 'verify: control-plane, CoreDNS and kube-proxy pods' },
  {
    verb: 'get',
    group: '',
    resource: 'configmaps',
    namespace: 'kube-system',
    names: ['kubeadm-config'],
    why: 'verify: kubeadm-config at the target',
  },
  { verb: 'get', group: 'apps', resource: 'deployments', namespace: 'kube-system', names: ['coredns'], why: 'verify: CoreDNS' },
  { verb: 'get', group: 'apps', resource: 'daemonsets', namespace: 'kube-system', names: ['kube-proxy'], why: 'verify: kube-proxy' },
];

/** The calls of the smoke workload (verify-workload): a namespace of its own with one pod, removed after. */
export const SMOKE_ACCESS: readonly Permission[] = [
  { verb: 'create', group: '', resource: 'namespaces', why: 'verify-workload: its own namespace' },
  { verb: 'delete', group: '', resource: 'namespaces', why: 'verify-workload: removing its namespace' },
  { verb: 'create', group: '', resource: 'pods', why: 'verify-workload: the smoke pod' },
  { verb: 'get', group: '', resource: 'pods', why: 'verify-workload: waiting for the smoke pod' },
  { verb: 'delete', group: '', resource: 'pods', why: 'verify-workload: removing the smoke pod' },
];

async function runSmokePod(api: VerifyApis, smoke: SmokeWorkload, namespace: string): Promise<Check> {
  const name = 'smoke';
  const started = Date.now();
  await api.core.createNamespace({
    body: { metadata: { name: namespace, labels: { 'app.kubernetes.io/managed-by': 'kubeadm-upgrade-action' } } },
  });
  await api.core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name, namespace },
      spec: {
        containers: [{ name, image: smoke.image }],
        terminationGracePeriodSeconds: 0,
        ...(smoke.nodeName ? { nodeName: smoke.nodeName } : {}),
      },
    },
  });
  let lastSeen = 'not yet read';
  let node: string[] = [];
  while (Date.now() - started < smoke.timeoutMs) {
    const pod = await api.core.readNamespacedPod({ name, namespace });
    node = pod.spec?.nodeName ? [pod.spec.nodeName] : [];
    if (podReady(pod))
      return {
        ok: true,
        message: `smoke pod (${smoke.image}) became Ready on ${node[0] ?? '?'} in ${Date.now() - started} ms`,
        nodes: node,
      };
    lastSeen = `${pod.status?.phase ?? 'Unknown'}${node[0] ? ` on ${node[0]}` : ', unscheduled'}`;
    await sleep(smoke.pollIntervalMs ?? 1000);
  }
  return {
    ok: false,
    message: `smoke pod (${smoke.image}) was not Ready within ${Math.round(smoke.timeoutMs / 1000)}s (last seen ${lastSeen})`,
    nodes: node,
  };
}

async function smokeCheck(api: VerifyApis, smoke: SmokeWorkload): Promise<Check> {
  const namespace = `kubeadm-upgrade-smoke-${randomBytes(4).toString('hex')}`;
  const outcome = await guarded(() => runSmokePod(api, smoke, namespace));
  // Deleting the namespace removes the pod too; the pod goes first so nothing waits on its grace period.
  // A failure here only leaves garbage behind, so it is told, not failed.
  await api.core.deleteNamespacedPod({ name: 'smoke', namespace, gracePeriodSeconds: 0 }).catch(() => undefined);
  const leftover = await api.core.deleteNamespace({ name: namespace }).then(
    () => undefined,
    (error: unknown) => (isNotFound(error) ? undefined : apiFailure(error).message),
  );
  return leftover ? { ...outcome, message: `${outcome.message}; namespace ${namespace} could not be deleted: ${leftover}` } : outcome;
}

/** Checks every item; never throws for what it finds, only reports it. */
export async function verifyCluster(api: VerifyApis, expectation: VerifyExpectation): Promise<VerifyResult> {
  const version = withoutV(expectation.version);
  const wanted = expectation.nodes ? new Set(expectation.nodes) : undefined;
  const allNodes = (await listAll('nodes', (page) => api.core.listNode(page))).map(mapNode);
  const nodes = wanted ? allNodes.filter((n) => wanted.has(n.name)) : allNodes;
  const missing = expectation.nodes?.filter((name) => !allNodes.some((n) => n.name === name)) ?? [];
  const checks: VerifyCheck[] = [];

  const notReady = [...nodes.filter((n) => !n.ready).map((n) => n.name), ...missing];
  checks.push({
    name: 'nodes-ready',
    ok: notReady.length === 0,
    message:
      notReady.length === 0
        ? `${nodes.length} nodes Ready`
        : `not Ready: ${notReady.map((n) => (missing.includes(n) ? `${n} (no such node)` : n)).join(', ')}`,
    nodes: notReady.length === 0 ? nodes.map((n) => n.name) : notReady,
  });

  const behind = nodes.filter((n) => n.kubeletVersion !== version);
  checks.push({
    name: 'kubelet-version',
    ok: behind.length === 0,
    message:
      behind.length === 0
        ? `every kubelet reports v${version}`
        : `kubelet not at v${version}: ${behind.map((n) => `${n.name} (v${n.kubeletVersion || '?'})`).join(', ')}`,
    nodes: behind.length === 0 ? nodes.map((n) => n.name) : behind.map((n) => n.name),
  });

  checks.push({
    name: 'control-plane-pods',
    ...(await guarded(async () => {
      const pods = (await listAll('pods in kube-system', (page) => api.core.listNamespacedPod({ ...page, namespace: 'kube-system' })))
        .map(mapControlPlanePod)
        .filter((p) => p !== undefined);
      const components: ControlPlaneComponent[] = [...KUBE_COMPONENTS, ...(expectation.controlPlaneImages?.etcd ? ['etcd' as const] : [])];
      const problems: string[] = [];
      const involved: string[] = [];
      const controlPlanes = nodes.filter((n) => n.role === 'control-plane');
      for (const node of controlPlanes) {
        for (const component of components) {
          const expected = { image: expectation.controlPlaneImages?.[component], version };
          const pod = pods.find((p) => p.node === node.name && p.component === component);
          const problem = !pod
            ? 'no mirror pod'
            : !imageMatches(pod.image, expected)
              ? `runs ${pod.image}, expected ${describeExpected(expected)}`
              : !pod.running
                ? 'not Running'
                : undefined;
          if (problem) {
            problems.push(`${component} on ${node.name}: ${problem}`);
            involved.push(node.name);
          }
        }
      }
      if (controlPlanes.length === 0) return { ok: false, message: 'no control-plane node found', nodes: [] };
      return problems.length === 0
        ? {
            ok: true,
            message: `${components.join(', ')} Running at the target on ${controlPlanes.length} control-plane nodes`,
            nodes: controlPlanes.map((n) => n.name),
          }
        : { ok: false, message: problems.join('; '), nodes: sortedUnique(involved) };
    })),
  });

  if (expectation.coreDNSImage || expectation.coreDNSVersion) {
    const expected = expectation.coreDNSImage ? { image: expectation.coreDNSImage } : { version: expectation.coreDNSVersion };
    checks.push({
      name: 'coredns',
      ...(await guarded(async () => {
        const deployment = await api.apps.readNamespacedDeployment({ name: 'coredns', namespace: 'kube-system' });
        const pods = await listAll('CoreDNS pods', (page) =>
          api.core.listNamespacedPod({ ...page, namespace: 'kube-system', labelSelector: 'k8s-app=kube-dns' }),
        );
        const template = (
          deployment.spec?.template.spec?.containers.find((c) => c.name === 'coredns') ?? deployment.spec?.template.spec?.containers[0]
        )?.image;
        return workloadCheck('CoreDNS', template, pods, 'coredns', expected);
      })),
    });
  }

  checks.push({
    name: 'kube-proxy',
    ...(await guarded(async () => {
      const expected = expectation.kubeProxyImage ? { image: expectation.kubeProxyImage } : { version };
      const daemonSet = await api.apps.readNamespacedDaemonSet({ name: 'kube-proxy', namespace: 'kube-system' });
      const pods = await listAll('kube-proxy pods', (page) =>
        api.core.listNamespacedPod({ ...page, namespace: 'kube-system', labelSelector: 'k8s-app=kube-proxy' }),
      );
      const template = (
        daemonSet.spec?.template.spec?.containers.find((c) => c.name === 'kube-proxy') ?? daemonSet.spec?.template.spec?.containers[0]
      )?.image;
      return workloadCheck('kube-proxy', template, pods, 'kube-proxy', expected);
    })),
  });

  checks.push({
    name: 'kubeadm-config',
    ...(await guarded(async () => {
      const configMap = await api.core.readNamespacedConfigMap({ name: 'kubeadm-config', namespace: 'kube-system' });
      const recorded = parseClusterConfiguration(configMap.data?.ClusterConfiguration)?.kubernetesVersion;
      return recorded === version
        ? { ok: true, message: `kubeadm-config records kubernetesVersion v${version}`, nodes: [] }
        : {
            ok: false,
            message: `kubeadm-config records kubernetesVersion ${recorded ? `v${recorded}` : '(none)'}, expected v${version}`,
            nodes: [],
          };
    })),
  });

  if (expectation.smoke) {
    const smoke = expectation.smoke;
    checks.push({ name: 'smoke-workload', ...(await smokeCheck(api, smoke)) });
  }
  return { ok: checks.every((c) => c.ok), checks };
}
