// Upgrade kubeadm first (the upstream procedure): unhold, install the exact target revision, hold; then check
// that the kubeadm on the node reports the target.
import { kubeadmVersionCommand, parseKubeadmVersion } from '../node-ops/kubeadm.ts';
import type { Stage } from '../types.ts';
import { packageSteps } from './common.ts';

export const kubeadmInstall: Stage = {
  name: 'kubeadm-install',
  title: 'install the target kubeadm (unhold, install, hold)',
  steps: (input) => [
    ...packageSteps(input, ['kubeadm']),
    {
      kind: 'command',
      argv: kubeadmVersionCommand(),
      rerunOnDrop: true,
      after(result) {
        const version = parseKubeadmVersion(result.stdout);
        if (version !== input.target.version)
          throw new Error(
            `kubeadm on ${input.job.name} reports ${version ?? 'no version'} after the install, expected ${input.target.version}`,
          );
      },
    },
  ],
};
