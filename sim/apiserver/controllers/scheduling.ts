// Predicates shared by the scheduler and the DaemonSet controller: taints and tolerations, node
// selectors and required node affinity, and resource requests.
import type { Obj } from '../store.ts';
import { parseQuantity } from '../util.ts';

export function tolerates(toleration: Obj, taint: Obj): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.operator === 'Exists') return !toleration.key || toleration.key === taint.key;
  return toleration.key === taint.key && (toleration.value ?? '') === (taint.value ?? '');
}

/** True when every NoSchedule/NoExecute taint of the node is tolerated. */
export function toleratesNode(tolerations: Obj[], node: Obj): boolean {
  const taints = (node.spec?.taints ?? []) as Obj[];
  return taints.every((taint) => taint.effect === 'PreferNoSchedule' || tolerations.some((t) => tolerates(t, taint)));
}

function expressionMatches(expr: Obj, value: string | undefined): boolean {
  const values = (expr.values ?? []) as string[];
  switch (expr.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
      return value !== undefined && Number(value) > Number(values[0]);
    case 'Lt':
      return value !== undefined && Number(value) < Number(values[0]);
    default:
      return false;
  }
}

function termMatches(term: Obj, node: Obj): boolean {
  const labels = (node.metadata.labels ?? {}) as Record<string, string>;
  const byLabel = ((term.matchExpressions ?? []) as Obj[]).every((e) => expressionMatches(e, labels[e.key]));
  const byField = ((term.matchFields ?? []) as Obj[]).every((e) =>
    expressionMatches(e, e.key === 'metadata.name' ? node.metadata.name : undefined),
  );
  return byLabel && byField;
}

/** nodeSelector and requiredDuringSchedulingIgnoredDuringExecution node affinity. */
export function nodeMatchesPod(podSpec: Obj, node: Obj): boolean {
  const labels = (node.metadata.labels ?? {}) as Record<string, string>;
  for (const [k, v] of Object.entries((podSpec.nodeSelector ?? {}) as Record<string, string>)) if (labels[k] !== v) return false;
  const terms = podSpec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms as Obj[] | undefined;
  if (terms && terms.length > 0 && !terms.some((t) => termMatches(t, node))) return false;
  return true;
}

export interface Usage {
  cpu: number;
  memory: number;
  pods: number;
}

export function podRequests(pod: Obj): Usage {
  let cpu = 0;
  let memory = 0;
  for (const c of (pod.spec?.containers ?? []) as Obj[]) {
    cpu += parseQuantity(c.resources?.requests?.cpu ?? 0) || 0;
    memory += parseQuantity(c.resources?.requests?.memory ?? 0) || 0;
  }
  return { cpu, memory, pods: 1 };
}

/** Allocatable of a node; a missing quantity means no limit. */
export function allocatable(node: Obj): Usage {
  const a = node.status?.allocatable ?? {};
  const value = (q: unknown) => {
    const n = parseQuantity(q);
    return Number.isNaN(n) ? Infinity : n;
  };
  return {
    cpu: a.cpu === undefined ? Infinity : value(a.cpu),
    memory: a.memory === undefined ? Infinity : value(a.memory),
    pods: a.pods === undefined ? Infinity : value(a.pods),
  };
}

/** DaemonSet pods tolerate these on top of their own tolerations (the DaemonSet controller adds them). */
export const daemonSetTolerations: Obj[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
];
