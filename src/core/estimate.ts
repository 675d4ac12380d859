// A simple duration model, so a reviewer sees the order of magnitude before approving:
//   first control plane  6 min  (kubeadm install, image pre-pull, etcd + 3 static pods swapped one by one)
//   other control planes 4 min  (same without the cluster-wide apply work)
//   worker               2 min  (packages, kubeadm upgrade node, kubelet restart, Ready)
//   + 1 min per node whose package repository changes minor (apt-get update / yum makecache)
//   + drain: 0.5 min, plus 0.05 min per evicted pod (evictions run in parallel; graceful stops dominate)
// Nodes of a worker batch run in parallel, so a batch takes as long as its slowest node; batches and control
// planes run one after another.
import type { BatchForecast, Estimate } from './plan-types.ts';

export const ESTIMATE_MODEL = {
  firstControlPlane: 6,
  otherControlPlane: 4,
  worker: 2,
  repoSwitch: 1,
  drainBase: 0.5,
  perEvictedPod: 0.05,
} as const;

export interface EstimateInput {
  controlPlanes: { node: string; first: boolean; repoSwitch: boolean }[];
  workerBatches: { nodes: { node: string; repoSwitch: boolean }[] }[];
  /** drain forecast batches (control planes and workers), for the evicted-pod counts */
  forecast: BatchForecast[];
}

export function estimateDuration(input: EstimateInput): Estimate {
  const evicted = new Map<string, number>();
  for (const b of input.forecast) for (const n of b.nodes) evicted.set(n.node, n.evict);
  const m = ESTIMATE_MODEL;
  const drain = (node: string) => m.drainBase + m.perEvictedPod * (evicted.get(node) ?? 0);
  let controlPlaneMinutes = 0;
  for (const cp of input.controlPlanes) {
    controlPlaneMinutes += (cp.first ? m.firstControlPlane : m.otherControlPlane) + (cp.repoSwitch ? m.repoSwitch : 0) + drain(cp.node);
  }
  let workerMinutes = 0;
  for (const batch of input.workerBatches) {
    workerMinutes += Math.max(0, ...batch.nodes.map((n) => m.worker + (n.repoSwitch ? m.repoSwitch : 0) + drain(n.node)));
  }
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    totalMinutes: Math.ceil(controlPlaneMinutes + workerMinutes),
    controlPlaneMinutes: round(controlPlaneMinutes),
    workerMinutes: round(workerMinutes),
    model: `first control plane ${m.firstControlPlane} min, other control planes ${m.otherControlPlane} min, worker ${m.worker} min, +${m.repoSwitch} min for a repository switch, drain ${m.drainBase} min + ${m.perEvictedPod} min per evicted pod; nodes of a batch in parallel, batches in sequence`,
  };
}
