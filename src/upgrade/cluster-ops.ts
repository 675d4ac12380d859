// ClusterOps over the real cluster-effect adapters (drain, progress annotations, Node reads).
import { drainNode, uncordonNode } from '../adapters/cluster/drain.ts';
import { mapNode } from '../adapters/cluster/map.ts';
import { isNotFound, readProgress, recordFence, recordStage, type ClusterApis } from '../adapters/cluster/progress.ts';
import type { Permission } from '../core/permissions.ts';
import type { ClusterOps } from './types.ts';

/** The calls of nodeStatus and addonImages (the node stages' own reads); drain and progress list theirs. */
export const CLUSTER_OPS_ACCESS: readonly Permission[] = [
  { verb: 'get', group: '', resource: 'nodes', why: 'waiting for upgraded nodes to be Ready' },
  { verb: 'get', group: 'apps', resource: 'deployments', namespace: 'kube-system', names: ['coredns'], why: 'reading the CoreDNS version' },
  {
    verb: 'get',
    group: 'apps',
    resource: 'daemonsets',
    namespace: 'kube-system',
    names: ['kube-proxy'],
    why: 'reading the kube-proxy version',
  },
];

export function clusterOps(apis: ClusterApis): ClusterOps {
  return {
    readProgress: (node) => readProgress(apis, node),
    recordStage: async (node, record) => void (await recordStage(apis, node, record)),
    drain: (node, options, onEvent) => drainNode(apis, node, options, onEvent),
    uncordon: (node) => uncordonNode(apis, node),
    recordFence: (node, target) => recordFence(apis, node, target),
    async nodeStatus(node) {
      try {
        const raw = await apis.core.readNode({ name: node });
        const observed = mapNode(raw);
        const ready = raw.status?.conditions?.find((c) => c.type === 'Ready');
        const condition = ready ? [ready.reason, ready.message].filter(Boolean).join(': ') : undefined;
        return {
          ready: observed.ready,
          kubeletVersion: observed.kubeletVersion,
          unschedulable: observed.unschedulable,
          ...(condition ? { condition } : {}),
        };
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
    async addonImages() {
      const image = (containers: { name: string; image?: string }[] | undefined, name: string) =>
        (containers?.find((c) => c.name === name) ?? containers?.[0])?.image;
      const [dns, proxy] = await Promise.all([
        apis.apps.readNamespacedDeployment({ name: 'coredns', namespace: 'kube-system' }).catch(() => undefined),
        apis.apps.readNamespacedDaemonSet({ name: 'kube-proxy', namespace: 'kube-system' }).catch(() => undefined),
      ]);
      const coreDNS = image(dns?.spec?.template.spec?.containers, 'coredns');
      const kubeProxy = image(proxy?.spec?.template.spec?.containers, 'kube-proxy');
      return { ...(coreDNS ? { coreDNS } : {}), ...(kubeProxy ? { kubeProxy } : {}) };
    },
  };
}
