// Server-side defaulting for the built-in kinds (the subset clients and `kubectl get` notice).
// Functions edit the object they are given (callers pass a fresh copy).
import type { Obj } from './store.ts';

/** The tolerations the DefaultTolerationSeconds admission plugin adds to every pod. */
const defaultTolerations = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
];

function defaultContainer(c: Obj): void {
  const image = String(c.image ?? '');
  const latest = !/:[^/]+$/.test(image) || image.endsWith(':latest');
  c.imagePullPolicy ??= latest ? 'Always' : 'IfNotPresent';
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  c.resources ??= {};
  for (const p of (c.ports ?? []) as Obj[]) p.protocol ??= 'TCP';
}

export function defaultPodSpec(spec: Obj, forTemplate: boolean): void {
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.securityContext ??= {};
  spec.schedulerName ??= 'default-scheduler';
  for (const c of (spec.containers ?? []) as Obj[]) defaultContainer(c);
  for (const c of (spec.initContainers ?? []) as Obj[]) defaultContainer(c);
  if (!forTemplate) {
    spec.serviceAccountName ??= spec.serviceAccount ?? 'default';
    spec.serviceAccount ??= spec.serviceAccountName;
    spec.priority ??= 0;
    spec.enableServiceLinks ??= true;
    spec.preemptionPolicy ??= 'PreemptLowerPriority';
    const tolerations = (spec.tolerations ?? []) as Obj[];
    for (const t of defaultTolerations) {
      const covered = tolerations.some(
        (x) => (x.key === t.key || (x.key === undefined && x.operator === 'Exists')) && (x.effect === t.effect || !x.effect),
      );
      if (!covered) tolerations.push({ ...t });
    }
    spec.tolerations = tolerations;
  }
}

function qosClass(spec: Obj): string {
  const containers = (spec.containers ?? []) as Obj[];
  const any = containers.some((c) => Object.keys(c.resources?.requests ?? {}).length || Object.keys(c.resources?.limits ?? {}).length);
  if (!any) return 'BestEffort';
  const guaranteed = containers.every((c) => {
    const limits = c.resources?.limits ?? {};
    const requests = c.resources?.requests ?? limits;
    return limits.cpu && limits.memory && requests.cpu === limits.cpu && requests.memory === limits.memory;
  });
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

function defaultPod(pod: Obj): void {
  pod.spec ??= {};
  defaultPodSpec(pod.spec, false);
  pod.status ??= {};
  pod.status.phase ??= 'Pending';
  pod.status.qosClass ??= qosClass(pod.spec);
}

function defaultTemplate(obj: Obj): void {
  obj.spec ??= {};
  obj.spec.template ??= {};
  obj.spec.template.metadata ??= {};
  obj.spec.template.spec ??= {};
  defaultPodSpec(obj.spec.template.spec, true);
}

function defaultDeployment(d: Obj): void {
  defaultTemplate(d);
  d.spec.replicas ??= 1;
  d.spec.strategy ??= { type: 'RollingUpdate' };
  if (d.spec.strategy.type === undefined) d.spec.strategy.type = 'RollingUpdate';
  if (d.spec.strategy.type === 'RollingUpdate') {
    d.spec.strategy.rollingUpdate ??= {};
    d.spec.strategy.rollingUpdate.maxUnavailable ??= '25%';
    d.spec.strategy.rollingUpdate.maxSurge ??= '25%';
  }
  d.spec.revisionHistoryLimit ??= 10;
  d.spec.progressDeadlineSeconds ??= 600;
  d.status ??= {};
}

function defaultDaemonSet(ds: Obj): void {
  defaultTemplate(ds);
  ds.spec.updateStrategy ??= { type: 'RollingUpdate' };
  if (ds.spec.updateStrategy.type === 'RollingUpdate') {
    ds.spec.updateStrategy.rollingUpdate ??= {};
    ds.spec.updateStrategy.rollingUpdate.maxUnavailable ??= 1;
    ds.spec.updateStrategy.rollingUpdate.maxSurge ??= 0;
  }
  ds.spec.revisionHistoryLimit ??= 10;
  ds.status ??= { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 };
}

function defaultJob(job: Obj): void {
  defaultTemplate(job);
  // The job strategy generates a selector on the job's own uid, and labels the template with it.
  if (!job.spec.selector && job.spec.manualSelector !== true && job.metadata.uid) {
    const uid = job.metadata.uid;
    job.spec.selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
    job.spec.template.metadata.labels = {
      ...job.spec.template.metadata.labels,
      'batch.kubernetes.io/controller-uid': uid,
      'batch.kubernetes.io/job-name': job.metadata.name,
      'controller-uid': uid,
      'job-name': job.metadata.name,
    };
  }
  job.spec.parallelism ??= 1;
  job.spec.completions ??= 1;
  job.spec.backoffLimit ??= 6;
  job.spec.completionMode ??= 'NonIndexed';
  job.spec.suspend ??= false;
  job.status ??= {};
}

function defaultService(svc: Obj): void {
  svc.spec ??= {};
  svc.spec.type ??= 'ClusterIP';
  svc.spec.sessionAffinity ??= 'None';
  for (const p of (svc.spec.ports ?? []) as Obj[]) {
    p.protocol ??= 'TCP';
    p.targetPort ??= p.port;
  }
  svc.status ??= { loadBalancer: {} };
}

function defaultNamespace(ns: Obj): void {
  ns.metadata.labels = { ...ns.metadata.labels, 'kubernetes.io/metadata.name': ns.metadata.name };
  ns.spec ??= {};
  ns.spec.finalizers ??= ['kubernetes'];
  ns.status ??= {};
  ns.status.phase ??= 'Active';
}

const byKind: Record<string, (obj: Obj) => void> = {
  Pod: defaultPod,
  Deployment: defaultDeployment,
  ReplicaSet: (rs) => {
    defaultTemplate(rs);
    rs.spec.replicas ??= 1;
    rs.status ??= { replicas: 0 };
  },
  DaemonSet: defaultDaemonSet,
  Job: defaultJob,
  Service: defaultService,
  Namespace: defaultNamespace,
  Node: (node) => {
    node.spec ??= {};
    node.status ??= {};
  },
  Secret: (secret) => {
    secret.type ??= 'Opaque';
  },
};

export function applyDefaults(kind: string, obj: Obj): void {
  byKind[kind]?.(obj);
}
