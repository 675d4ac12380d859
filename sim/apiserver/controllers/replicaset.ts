// The ReplicaSet controller: keeps spec.replicas active pods (new ones Pending and unbound, for the
// scheduler), removes the surplus (unbound, pending and unready first, then the newest), and reports
// replicas / readyReplicas / availableReplicas.
import { deleteObject } from '../deletion.ts';
import { R } from '../resources.ts';
import { labelSelectorMatcher } from '../selectors.ts';
import type { ChangeEvent, Obj } from '../store.ts';
import { controllerRef, ownerRef, podReady } from '../util.ts';
import type { Controller, ControllerContext } from './loop.ts';

const BURST = 500;

export function isActivePod(pod: Obj): boolean {
  return !pod.metadata.deletionTimestamp && pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed';
}

/** Pods controlled by the owner (controller reference with its uid). */
export function controlledPods(ctx: ControllerContext, owner: Obj): Obj[] {
  return ctx.store.ownedBy(R.pods, owner.metadata.uid).filter((p) => controllerRef(p)?.uid === owner.metadata.uid);
}

/** Creates a pod from a workload's template, owned by it. */
export function createPodFromTemplate(
  ctx: ControllerContext,
  owner: Obj,
  ownerKind: string,
  apiVersion: string,
  extra: { labels?: Record<string, string>; nodeName?: string; spec?: Obj } = {},
): Obj {
  const template = owner.spec.template ?? {};
  const pod: Obj = {
    metadata: {
      generateName: `${owner.metadata.name}-`,
      labels: { ...template.metadata?.labels, ...extra.labels },
      ownerReferences: [ownerRef(owner, apiVersion, ownerKind)],
    },
    spec: { ...structuredClone(template.spec ?? {}), ...extra.spec },
  };
  if (template.metadata?.annotations) pod.metadata.annotations = { ...template.metadata.annotations };
  if (extra.nodeName) pod.spec.nodeName = extra.nodeName;
  return ctx.api.create(R.pods, owner.metadata.namespace, pod);
}

/** Deletion preference of kube's ActivePods ordering: unbound, pending, not ready, then newest first. */
function deletionRank(pod: Obj): [number, number, number, number] {
  return [
    pod.spec?.nodeName ? 1 : 0,
    pod.status?.phase === 'Pending' ? 0 : pod.status?.phase === 'Unknown' ? 1 : 2,
    podReady(pod) ? 1 : 0,
    -Date.parse(pod.metadata.creationTimestamp ?? '0'),
  ];
}

function compareRank(a: Obj, b: Obj): number {
  const ra = deletionRank(a);
  const rb = deletionRank(b);
  for (let i = 0; i < ra.length; i++) if (ra[i]! !== rb[i]!) return ra[i]! - rb[i]!;
  return 0;
}

export function replicaSetController(ctx: ControllerContext): Controller {
  function manage(rs: Obj, active: Obj[]): void {
    const diff = active.length - (rs.spec.replicas ?? 1);
    if (diff < 0) {
      for (let i = 0; i < Math.min(-diff, BURST); i++) createPodFromTemplate(ctx, rs, 'ReplicaSet', 'apps/v1');
      if (-diff > BURST) ctx.enqueue('replicaset', `${rs.metadata.namespace}/${rs.metadata.name}`);
    } else if (diff > 0) {
      for (const pod of [...active].sort(compareRank).slice(0, diff)) {
        deleteObject(ctx.api, R.pods, pod.metadata.namespace, pod.metadata.name, {});
      }
    }
  }

  function updateStatus(rs: Obj): void {
    const pods = controlledPods(ctx, rs).filter(isActivePod);
    const matcher = labelSelectorMatcher(rs.spec.selector);
    const ready = pods.filter(podReady).length;
    const status = {
      ...rs.status,
      replicas: pods.length,
      fullyLabeledReplicas: pods.filter((p) => matcher(p.metadata.labels)).length,
      readyReplicas: ready,
      availableReplicas: ready,
      observedGeneration: rs.metadata.generation,
    };
    ctx.api.write(R.replicasets, { ...rs, status });
  }

  return {
    name: 'replicaset',
    watch(event: ChangeEvent, enqueue) {
      if (event.def === R.replicasets && event.type !== 'DELETED')
        enqueue(`${event.object.metadata.namespace}/${event.object.metadata.name}`);
      if (event.def === R.pods) {
        for (const pod of [event.old, event.object]) {
          const ref = pod && controllerRef(pod);
          if (ref?.kind === 'ReplicaSet') enqueue(`${pod!.metadata.namespace}/${ref.name}`);
        }
      }
    },
    reconcile(key) {
      const rs = ctx.store.getByKey(R.replicasets, key);
      if (!rs || rs.metadata.deletionTimestamp) return;
      manage(rs, controlledPods(ctx, rs).filter(isActivePod));
      updateStatus(ctx.store.getByKey(R.replicasets, key)!);
    },
  };
}
