// The Job controller, minimal: runs pods from the template until `completions` succeeded (at most
// `parallelism` at once), then marks the Job Complete; ttlSecondsAfterFinished deletes it later.
import { deleteObject } from '../deletion.ts';
import { R } from '../resources.ts';
import type { ChangeEvent, Obj } from '../store.ts';
import { controllerRef, podReady, timeNow } from '../util.ts';
import type { Controller, ControllerContext } from './loop.ts';
import { controlledPods, createPodFromTemplate, isActivePod } from './replicaset.ts';

function complete(job: Obj): boolean {
  return ((job.status?.conditions ?? []) as Obj[]).some((c) => c.type === 'Complete' && c.status === 'True');
}

export function jobController(ctx: ControllerContext): Controller {
  function expire(job: Obj, key: string): void {
    const ttl = job.spec?.ttlSecondsAfterFinished;
    if (ttl === undefined || !job.status?.completionTime) return;
    const at = Date.parse(job.status.completionTime) + ttl * 1000;
    if (Date.now() >= at) deleteObject(ctx.api, R.jobs, job.metadata.namespace, job.metadata.name, { propagationPolicy: 'Background' });
    else ctx.after(at - Date.now(), 'job', key);
  }

  function reconcile(key: string): void {
    const job = ctx.store.getByKey(R.jobs, key);
    if (!job || job.metadata.deletionTimestamp) return;
    if (complete(job)) {
      expire(job, key);
      return;
    }
    const pods = controlledPods(ctx, job);
    const active = pods.filter(isActivePod);
    const succeeded = pods.filter((p) => p.status?.phase === 'Succeeded').length;
    const failed = pods.filter((p) => p.status?.phase === 'Failed').length;
    const completions = job.spec.completions ?? 1;
    const wanted = Math.min(job.spec.parallelism ?? 1, completions - succeeded) - active.length;
    if (!job.spec.suspend) for (let i = 0; i < wanted; i++) createPodFromTemplate(ctx, job, 'Job', 'batch/v1');
    const now = timeNow();
    const status: Obj = { ...job.status, startTime: job.status?.startTime ?? now, uncountedTerminatedPods: {} };
    status.active = controlledPods(ctx, job).filter(isActivePod).length;
    status.ready = active.filter(podReady).length;
    status.terminating = pods.filter((p) => p.metadata.deletionTimestamp).length;
    if (succeeded) status.succeeded = succeeded;
    if (failed) status.failed = failed;
    if (succeeded >= completions) {
      status.completionTime = now;
      status.active = 0;
      status.conditions = [
        {
          type: 'SuccessCriteriaMet',
          status: 'True',
          lastProbeTime: now,
          lastTransitionTime: now,
          reason: 'CompletionsReached',
          message: 'Reached expected number of succeeded pods',
        },
        {
          type: 'Complete',
          status: 'True',
          lastProbeTime: now,
          lastTransitionTime: now,
          reason: 'CompletionsReached',
          message: 'Reached expected number of succeeded pods',
        },
      ];
    }
    for (const k of ['active', 'ready', 'terminating']) if (status[k] === 0) delete status[k];
    const written = ctx.api.write(R.jobs, { ...job, status });
    if (complete(written)) expire(written, key);
  }

  return {
    name: 'job',
    watch(event: ChangeEvent, enqueue) {
      if (event.def === R.jobs && event.type !== 'DELETED') enqueue(`${event.object.metadata.namespace}/${event.object.metadata.name}`);
      if (event.def === R.pods) {
        const ref = controllerRef(event.object);
        if (ref?.kind === 'Job') enqueue(`${event.object.metadata.namespace}/${ref.name}`);
      }
    },
    reconcile,
  };
}
