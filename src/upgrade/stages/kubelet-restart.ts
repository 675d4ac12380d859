// The new kubelet binary and the configuration kubeadm wrote take effect with a restart.
import { daemonReloadCommand, restartKubeletCommand } from '../node-ops/kubeadm.ts';
import type { Stage } from '../types.ts';

export const kubeletRestart: Stage = {
  name: 'kubelet-restart',
  title: 'restart the kubelet',
  steps: () => [
    { kind: 'command', argv: daemonReloadCommand(), rerunOnDrop: true },
    { kind: 'command', argv: restartKubeletCommand(), rerunOnDrop: true },
  ],
};
