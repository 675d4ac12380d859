// The Deployment controller: one ReplicaSet per pod template (named NAME-HASH, labelled
// pod-template-hash), rolling updates bounded by maxSurge / maxUnavailable as the real
// rolling.go computes them, Recreate, and the status fields kubectl rollout status reads.
import { R } from '../resources.ts';
import type { ChangeEvent, Obj } from '../store.ts';
import { controllerRef, intOrPercent, ownerRef, templateHash, timeNow } from '../util.ts';
import type { Controller, ControllerContext } from './loop.ts';

const REVISION = 'deployment.kubernetes.io/revision';

function revision(rs: Obj): number {
  return Number(rs.metadata.annotations?.[REVISION] ?? 0);
}

function byAge(a: Obj, b: Obj): number {
  return (
    Date.parse(a.metadata.creationTimestamp) - Date.parse(b.metadata.creationTimestamp) || (a.metadata.name < b.metadata.name ? -1 : 1)
  );
}

function available(rs: Obj): number {
  return rs.status?.availableReplicas ?? 0;
}

export function deploymentController(ctx: ControllerContext): Controller {
  function scale(rs: Obj, replicas: number, d: Obj): Obj {
    if (rs.spec.replicas === replicas) return rs;
    const annotations = { ...rs.metadata.annotations, 'deployment.kubernetes.io/desired-replicas': String(d.spec.replicas) };
    return ctx.api.write(R.replicasets, { ...rs, metadata: { ...rs.metadata, annotations }, spec: { ...rs.spec, replicas } });
  }

  function createReplicaSet(d: Obj, hash: string, replicas: number, nextRevision: number): Obj {
    const template = structuredClone(d.spec.template);
    template.metadata = { ...template.metadata, labels: { ...template.metadata?.labels, 'pod-template-hash': hash } };
    return ctx.api.create(R.replicasets, d.metadata.namespace, {
      metadata: {
        name: `${d.metadata.name}-${hash}`,
        labels: template.metadata.labels,
        annotations: {
          [REVISION]: String(nextRevision),
          'deployment.kubernetes.io/desired-replicas': String(d.spec.replicas),
          'deployment.kubernetes.io/max-replicas': String(d.spec.replicas),
        },
        ownerReferences: [ownerRef(d, 'apps/v1', 'Deployment')],
      },
      spec: {
        replicas,
        minReadySeconds: d.spec.minReadySeconds,
        selector: { ...d.spec.selector, matchLabels: { ...d.spec.selector?.matchLabels, 'pod-template-hash': hash } },
        template,
      },
    });
  }

  function rollingLimits(d: Obj): { maxSurge: number; maxUnavailable: number } {
    const desired = d.spec.replicas ?? 1;
    const ru = d.spec.strategy?.rollingUpdate ?? {};
    const maxSurge = intOrPercent(ru.maxSurge ?? '25%', desired, true);
    let maxUnavailable = intOrPercent(ru.maxUnavailable ?? '25%', desired, false);
    if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
    return { maxSurge, maxUnavailable };
  }

  function rollingUpdate(d: Obj, newRS: Obj, olds: Obj[]): void {
    const desired = d.spec.replicas ?? 1;
    const { maxSurge, maxUnavailable } = rollingLimits(d);
    const total = () => [newRS, ...olds].reduce((n, rs) => n + (rs.spec.replicas ?? 0), 0);
    // Scale the new ReplicaSet up as far as the surge allows.
    if (newRS.spec.replicas > desired) newRS = scale(newRS, desired, d);
    else if (newRS.spec.replicas < desired) {
      const room = Math.max(0, desired + maxSurge - total());
      newRS = scale(newRS, Math.min(desired, newRS.spec.replicas + room), d);
    }
    // Scale old ReplicaSets down while keeping desired - maxUnavailable available.
    const minAvailable = desired - maxUnavailable;
    const newUnavailable = Math.max(0, newRS.spec.replicas - available(newRS));
    let maxScaledDown = total() - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return;
    for (let i = 0; i < olds.length && maxScaledDown > 0; i++) {
      const rs = olds[i]!;
      const unhealthy = rs.spec.replicas - available(rs);
      if (rs.spec.replicas === 0 || unhealthy <= 0) continue;
      const down = Math.min(maxScaledDown, unhealthy);
      olds[i] = scale(rs, rs.spec.replicas - down, d);
      maxScaledDown -= down;
    }
    const availableNow = [newRS, ...olds].reduce((n, rs) => n + available(rs), 0);
    let toScaleDown = Math.min(maxScaledDown, availableNow - minAvailable);
    for (let i = 0; i < olds.length && toScaleDown > 0; i++) {
      const rs = olds[i]!;
      if (rs.spec.replicas === 0) continue;
      const down = Math.min(rs.spec.replicas, toScaleDown);
      olds[i] = scale(rs, rs.spec.replicas - down, d);
      toScaleDown -= down;
    }
  }

  function recreate(d: Obj, newRS: Obj, olds: Obj[]): void {
    for (const rs of olds) scale(rs, 0, d);
    const oldPodsLeft = olds.some((rs) => ctx.store.ownedBy(R.pods, rs.metadata.uid).length > 0);
    if (!oldPodsLeft) scale(newRS, d.spec.replicas ?? 1, d);
  }

  function updateStatus(d: Obj, newRS: Obj, all: Obj[]): void {
    const desired = d.spec.replicas ?? 1;
    const sum = (f: (rs: Obj) => number) => all.reduce((n, rs) => n + f(rs), 0);
    const availableReplicas = sum(available);
    const updatedReplicas = newRS.status?.replicas ?? 0;
    const replicas = sum((rs) => rs.status?.replicas ?? 0);
    const { maxUnavailable } = rollingLimits(d);
    const isAvailable = availableReplicas >= desired - (d.spec.strategy?.type === 'Recreate' ? 0 : maxUnavailable);
    const complete = updatedReplicas === desired && replicas === desired && availableReplicas === desired;
    const old = (d.status?.conditions ?? []) as Obj[];
    const cond = (type: string, status: boolean, reason: string, message: string): Obj => {
      const prev = old.find((c) => c.type === type);
      const s = status ? 'True' : 'False';
      const now = timeNow();
      return {
        type,
        status: s,
        lastUpdateTime: prev?.reason === reason ? prev.lastUpdateTime : now,
        lastTransitionTime: prev?.status === s ? prev.lastTransitionTime : now,
        reason,
        message,
      };
    };
    const name = newRS.metadata.name;
    const status: Obj = {
      observedGeneration: d.metadata.generation,
      replicas,
      updatedReplicas,
      readyReplicas: sum((rs) => rs.status?.readyReplicas ?? 0),
      availableReplicas,
      unavailableReplicas: Math.max(0, desired - availableReplicas),
      conditions: [
        cond(
          'Available',
          isAvailable,
          isAvailable ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
          isAvailable ? 'Deployment has minimum availability.' : 'Deployment does not have minimum availability.',
        ),
        cond(
          'Progressing',
          true,
          complete ? 'NewReplicaSetAvailable' : 'ReplicaSetUpdated',
          complete ? `ReplicaSet "${name}" has successfully progressed.` : `ReplicaSet "${name}" is progressing.`,
        ),
      ],
    };
    for (const k of ['readyReplicas', 'availableReplicas', 'updatedReplicas', 'replicas', 'unavailableReplicas'])
      if (status[k] === 0) delete status[k];
    const annotations = { ...d.metadata.annotations, [REVISION]: newRS.metadata.annotations?.[REVISION] ?? '1' };
    ctx.api.write(R.deployments, { ...d, metadata: { ...d.metadata, annotations }, status });
  }

  function reconcile(key: string): void {
    const d = ctx.store.getByKey(R.deployments, key);
    if (!d || d.metadata.deletionTimestamp) return;
    const owned = ctx.store
      .ownedBy(R.replicasets, d.metadata.uid)
      .filter((rs) => controllerRef(rs)?.uid === d.metadata.uid && !rs.metadata.deletionTimestamp);
    const hash = templateHash(d.spec.template, d.status?.collisionCount ?? 0);
    let newRS = owned.find((rs) => rs.metadata.labels?.['pod-template-hash'] === hash);
    const olds = owned.filter((rs) => rs !== newRS).sort(byAge);
    if (!newRS) {
      const nextRevision = Math.max(0, ...owned.map(revision)) + 1;
      const initial = d.spec.strategy?.type === 'Recreate' || olds.length > 0 ? 0 : (d.spec.replicas ?? 1);
      newRS = createReplicaSet(d, hash, initial, nextRevision);
    }
    if (!d.spec.paused) {
      if (d.spec.strategy?.type === 'Recreate') recreate(d, newRS, olds);
      else rollingUpdate(d, newRS, olds);
    }
    const fresh = (rs: Obj) => ctx.store.get(R.replicasets, rs.metadata.namespace, rs.metadata.name) ?? rs;
    updateStatus(ctx.store.getByKey(R.deployments, key)!, fresh(newRS), [newRS, ...olds].map(fresh));
  }

  return {
    name: 'deployment',
    watch(event: ChangeEvent, enqueue) {
      if (event.def === R.deployments && event.type !== 'DELETED')
        enqueue(`${event.object.metadata.namespace}/${event.object.metadata.name}`);
      if (event.def === R.replicasets) {
        const ref = controllerRef(event.object);
        if (ref?.kind === 'Deployment') enqueue(`${event.object.metadata.namespace}/${ref.name}`);
      }
    },
    reconcile,
  };
}
