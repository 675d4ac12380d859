// Upgrade kubelet and kubectl to the exact target revision (unhold, install, hold); the kubelet keeps running the
// old binary until the restart stage.
import type { Stage } from '../types.ts';
import { packageSteps } from './common.ts';

export const kubeletInstall: Stage = {
  name: 'kubelet-install',
  title: 'install the target kubelet and kubectl (unhold, install, hold)',
  steps: (input) => packageSteps(input, ['kubelet', 'kubectl']),
};
