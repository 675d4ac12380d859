// pkgs.k8s.io serves one repository per minor: point the node's repository files at the target minor. Only the
// minor in the pkgs.k8s.io URL changes; signed-by / gpgkey / exclude= stay (pkgs.k8s.io signs every minor with
// the same key). sed -i writes a new file and renames it over the old one, so an interruption never leaves half a file.
import { switchRepoMinorCommand } from '../../adapters/node/packages/manager.ts';
import type { Stage, StageStep } from '../types.ts';
import { managerOf, minorOf } from './common.ts';

export const KEYRING_NOTE =
  'The package repository was switched to the target minor in the existing repository file, keeping its signed-by keyring (gpgkey on yum): pkgs.k8s.io signs every minor with the same key.';

export const repoSwitch: Stage = {
  name: 'repo-switch',
  title: 'point the package repository at the target minor',
  // also when the files already name the target but the lists do not know it: a switch cut short before its refresh
  shouldRun: ({ node, target }) =>
    node.repoFiles.length === 0 ||
    node.repoFiles.some((f) => f.minors.join() !== minorOf(target.version)) ||
    node.repoMetadataStale === true,
  steps(input) {
    const { job, node, target } = input;
    const minor = minorOf(target.version);
    if (node.repoFiles.length === 0) {
      return [
        {
          kind: 'cluster',
          text: 'no pkgs.k8s.io repository file was found on the node: nothing to switch',
          run: () =>
            Promise.reject(
              new Error(
                `no pkgs.k8s.io repository file found on ${job.name}; configure the Kubernetes package repository as the kubeadm install guide says`,
              ),
            ),
        },
      ];
    }
    const steps: StageStep[] = node.repoFiles
      .filter((f) => f.minors.join() !== minor)
      .map((file) => ({
        kind: 'command',
        argv: switchRepoMinorCommand(file.path, minor),
        rerunOnDrop: true,
        after: (_result, ctx) => ctx.say(`${file.path}: v${file.minors.join(', v')} → v${minor}`),
      }));
    const refresh = managerOf(input).refreshMetadataCommand();
    if (node.repoMetadataStale) {
      const how = refresh ? 'its cached metadata is dropped' : "the install's apt-get update refreshes the lists";
      steps.push({
        kind: 'cluster',
        text: `the repository already names v${minor} but the node's package metadata does not list it (an earlier switch was cut short before its refresh): ${how}`,
        run: async (ctx) => ctx.say(`${job.name}: the package metadata predates the switch to v${minor}; ${how}`),
      });
    }
    if (refresh) steps.push({ kind: 'command', argv: refresh, rerunOnDrop: true, allowFailure: true });
    steps.push({
      kind: 'cluster',
      text: 'note: the keyring stays (pkgs.k8s.io signs every minor with the same key)',
      run: async (ctx) => ctx.note('info', KEYRING_NOTE),
    });
    return steps;
  },
};
