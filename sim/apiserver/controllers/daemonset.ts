// The DaemonSet controller: one pod per eligible node (node selector / affinity match and every
// NoSchedule/NoExecute taint tolerated, with the tolerations the real controller adds), rolling
// updates when the template changes (old pods replaced maxUnavailable at a time, as
// controller-revision-hash says), and the status fields kubectl rollout status reads.
import { deleteObject } from '../deletion.ts';
import { R } from '../resources.ts';
import type { ChangeEvent, Obj } from '../store.ts';
import { controllerRef, intOrPercent, podReady, templateHash } from '../util.ts';
import type { Controller, ControllerContext } from './loop.ts';
import { controlledPods, createPodFromTemplate } from './replicaset.ts';
import { daemonSetTolerations, nodeMatchesPod, toleratesNode } from './scheduling.ts';

const HASH = 'controller-revision-hash';

function nodeSignature(node: Obj | undefined): string {
  if (!node) return '';
  return JSON.stringify([node.metadata.labels, node.spec?.taints]);
}

function podTolerations(ds: Obj): Obj[] {
  return [...((ds.spec.template?.spec?.tolerations ?? []) as Obj[]), ...daemonSetTolerations];
}

function shouldRun(ds: Obj, node: Obj): boolean {
  const spec = ds.spec.template?.spec ?? {};
  return nodeMatchesPod(spec, node) && toleratesNode(podTolerations(ds), node);
}

/** The affinity the real controller gives each pod, pinning it to its node. */
function pinTo(nodeName: string): Obj {
  return {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] }],
      },
    },
  };
}

export function daemonSetController(ctx: ControllerContext): Controller {
  function podsByNode(ds: Obj): Map<string, Obj[]> {
    const out = new Map<string, Obj[]>();
    for (const pod of controlledPods(ctx, ds)) {
      const node = pod.spec?.nodeName ?? '';
      let list = out.get(node);
      if (!list) {
        list = [];
        out.set(node, list);
      }
      list.push(pod);
    }
    return out;
  }

  function createPod(ds: Obj, hash: string, nodeName: string): void {
    const tolerations = [...((ds.spec.template?.spec?.tolerations ?? []) as Obj[])];
    for (const t of daemonSetTolerations) if (!tolerations.some((x) => x.key === t.key && x.effect === t.effect)) tolerations.push(t);
    createPodFromTemplate(ctx, ds, 'DaemonSet', 'apps/v1', {
      labels: { [HASH]: hash, 'pod-template-generation': String(ds.metadata.generation ?? 1) },
      nodeName,
      spec: { affinity: pinTo(nodeName), tolerations },
    });
  }

  function reconcile(key: string): void {
    const ds = ctx.store.getByKey(R.daemonsets, key);
    if (!ds || ds.metadata.deletionTimestamp) return;
    const hash = templateHash(ds.spec.template);
    const byNode = podsByNode(ds);
    const eligible: string[] = [];
    for (const node of ctx.store.iterate(R.nodes)) if (shouldRun(ds, node)) eligible.push(node.metadata.name);
    const eligibleSet = new Set(eligible);
    // Pods on nodes that should not run one (or on vanished nodes) go.
    for (const [node, pods] of byNode) {
      if (eligibleSet.has(node)) continue;
      for (const pod of pods)
        if (!pod.metadata.deletionTimestamp) deleteObject(ctx.api, R.pods, pod.metadata.namespace, pod.metadata.name, {});
    }
    const rolling = (ds.spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
    const maxUnavailable = Math.max(1, intOrPercent(ds.spec.updateStrategy?.rollingUpdate?.maxUnavailable ?? 1, eligible.length, true));
    let unavailable = 0;
    const oldReady: Obj[] = [];
    for (const node of eligible) {
      const pods = (byNode.get(node) ?? []).filter((p) => !p.metadata.deletionTimestamp);
      const terminating = (byNode.get(node) ?? []).some((p) => p.metadata.deletionTimestamp);
      if (pods.length === 0) {
        unavailable += 1;
        // With maxSurge 0 the replacement waits until the old pod is gone.
        if (!terminating) createPod(ds, hash, node);
        continue;
      }
      for (const extra of pods.slice(1)) deleteObject(ctx.api, R.pods, extra.metadata.namespace, extra.metadata.name, {});
      const pod = pods[0]!;
      if (!podReady(pod)) unavailable += 1;
      if (rolling && pod.metadata.labels?.[HASH] !== hash) {
        if (!podReady(pod)) deleteObject(ctx.api, R.pods, pod.metadata.namespace, pod.metadata.name, {});
        else oldReady.push(pod);
      }
    }
    for (const pod of oldReady.slice(0, Math.max(0, maxUnavailable - unavailable))) {
      deleteObject(ctx.api, R.pods, pod.metadata.namespace, pod.metadata.name, {});
    }
    updateStatus(key, hash, eligibleSet);
  }

  function updateStatus(key: string, hash: string, eligible: Set<string>): void {
    const ds = ctx.store.getByKey(R.daemonsets, key)!;
    let current = 0;
    let misscheduled = 0;
    let ready = 0;
    let updated = 0;
    for (const [node, pods] of podsByNode(ds)) {
      const live = pods.filter((p) => !p.metadata.deletionTimestamp);
      if (live.length === 0) continue;
      if (!eligible.has(node)) {
        misscheduled += 1;
        continue;
      }
      current += 1;
      if (live.some(podReady)) ready += 1;
      if (live.some((p) => p.metadata.labels?.[HASH] === hash)) updated += 1;
    }
    const status: Obj = {
      currentNumberScheduled: current,
      numberMisscheduled: misscheduled,
      desiredNumberScheduled: eligible.size,
      numberReady: ready,
      observedGeneration: ds.metadata.generation,
      updatedNumberScheduled: updated,
      numberAvailable: ready,
      numberUnavailable: Math.max(0, eligible.size - ready),
    };
    if (status.numberAvailable === 0) delete status.numberAvailable;
    if (status.numberUnavailable === 0) delete status.numberUnavailable;
    ctx.api.write(R.daemonsets, { ...ds, status });
  }

  return {
    name: 'daemonset',
    watch(event: ChangeEvent, enqueue) {
      if (event.def === R.daemonsets && event.type !== 'DELETED')
        enqueue(`${event.object.metadata.namespace}/${event.object.metadata.name}`);
      else if (event.def === R.pods) {
        for (const pod of [event.old, event.object]) {
          const ref = pod && controllerRef(pod);
          if (ref?.kind === 'DaemonSet') enqueue(`${pod!.metadata.namespace}/${ref.name}`);
        }
      } else if (event.def === R.nodes && nodeSignature(event.old) !== nodeSignature(event.type === 'DELETED' ? undefined : event.object)) {
        for (const ds of ctx.store.iterate(R.daemonsets)) enqueue(`${ds.metadata.namespace}/${ds.metadata.name}`);
      }
    },
    reconcile,
  };
}
