// A node's upgrade, in the upstream procedure's order (kubeadm-upgrade.md). Adding a stage is one file beside
// this one and one line in this list: the plan, dry-run, the run, the progress records and resume all follow it.
import type { Stage } from '../types.ts';
import { drain } from './drain.ts';
import { kubeadmInstall } from './kubeadm-install.ts';
import { kubeadmUpgrade } from './kubeadm-upgrade.ts';
import { kubeletInstall } from './kubelet-install.ts';
import { kubeletRestart } from './kubelet-restart.ts';
import { repoSwitch } from './repo-switch.ts';
import { uncordon } from './uncordon.ts';
import { waitReady } from './wait-ready.ts';

export const NODE_STAGES: readonly Stage[] = [
  repoSwitch,
  kubeadmInstall,
  kubeadmUpgrade,
  drain,
  kubeletInstall,
  kubeletRestart,
  waitReady,
  uncordon,
];

/** Stage names in pipeline order. */
export const STAGE_ORDER: readonly string[] = NODE_STAGES.map((s) => s.name);

export function stageNamed(name: string): Stage {
  const stage = NODE_STAGES.find((s) => s.name === name);
  if (!stage) throw new Error(`unknown stage ${name}`);
  return stage;
}
