// kubeadm's version-skew policy for `upgrade apply` (cmd/kubeadm/app/phases/upgrade/policy.go):
// mandatory errors cannot be forced, skippable ones need --force.
import { vstr, type Semver } from './output.ts';

export interface PolicyInput {
  cluster: Semver;
  kubeadm: Semver;
  target: Semver;
  /** kubelet versions as the Node objects report them ("v1.29.3") */
  kubeletVersions: string[];
  allowExperimental: boolean;
  allowRC: boolean;
}

export interface PolicyErrors {
  mandatory: string[];
  skippable: string[];
}

/** Kubelets may be this many minors older than the target (1 up to kubeadm 1.28, 3 since 1.29). */
export function maxKubeletSkew(kubeadm: Semver): number {
  return kubeadm.minor >= 29 ? 3 : 1;
}

function released(target: Semver): boolean {
  return target.pre === '';
}

export function enforceVersionPolicies(input: PolicyInput): PolicyErrors {
  const { cluster, kubeadm, target } = input;
  const errors: PolicyErrors = { mandatory: [], skippable: [] };
  const targetStr = vstr(target);
  const gate = (message: string) => (released(target) ? errors.mandatory : errors.skippable).push(message);
  const minimum: Semver = { major: kubeadm.major, minor: kubeadm.minor - 1, patch: 0, pre: '' };
  if (target.major < minimum.major || (target.major === minimum.major && target.minor < minimum.minor)) {
    errors.mandatory.push(
      `Specified version to upgrade to "${targetStr}" is equal to or lower than the minimum supported version "${vstr(cluster)}". Please specify a higher version to upgrade to`,
    );
  }
  if (target.minor > cluster.minor + 1) {
    gate(`Specified version to upgrade to "${targetStr}" is too high; kubeadm can upgrade only 1 minor version at a time`);
  }
  if (target.minor < cluster.minor - 1) {
    gate(`Specified version to downgrade to "${targetStr}" is too low; kubeadm can downgrade only 1 minor version at a time`);
  }
  const kubeadmOlder = kubeadm.minor < target.minor || (kubeadm.minor === target.minor && kubeadm.patch < target.patch);
  if (kubeadmOlder && target.minor > kubeadm.minor) {
    gate(
      `Specified version to upgrade to "${targetStr}" is at least one minor release higher than the kubeadm minor release (${target.minor} > ${kubeadm.minor}). Such an upgrade is not supported`,
    );
  } else if (kubeadmOlder) {
    errors.skippable.push(
      `Specified version to upgrade to "${targetStr}" is higher than the kubeadm version "${vstr(kubeadm)}". Upgrade kubeadm first using the tool you used to install kubeadm`,
    );
  }
  if (kubeadm.major > target.major || kubeadm.minor > target.minor) {
    errors.skippable.push(
      `Kubeadm version ${vstr(kubeadm)} can only be used to upgrade to Kubernetes version ${kubeadm.major}.${kubeadm.minor}`,
    );
  }
  if (!released(target) && !input.allowExperimental && !(target.pre.startsWith('rc') && input.allowRC)) {
    errors.skippable.push(
      `Specified version to upgrade to "${targetStr}" is an unstable version and such upgrades weren't allowed via setting the --allow-*-upgrades flags`,
    );
  }
  const tooOld = [...new Set(input.kubeletVersions)].filter((v) => {
    const minor = Number(/^v?\d+\.(\d+)\./.exec(v)?.[1] ?? NaN);
    return target.minor > minor + maxKubeletSkew(kubeadm);
  });
  if (tooOld.length > 0)
    errors.skippable.push(`There are kubelets in this cluster that are too old that have these versions [${tooOld.join(' ')}]`);
  return errors;
}

function bullets(messages: string[]): string {
  return messages.map((m) => `\t- ${m}\n`).join('');
}

/** The error text kubeadm fails with, or undefined when the upgrade may go on (printing the forced warnings). */
export function policyVerdict(errors: PolicyErrors, force: boolean, say: (line: string) => void): string | undefined {
  if (errors.mandatory.length > 0) {
    return `the --version argument is invalid due to these fatal errors:\n\n${bullets(errors.mandatory)}\nPlease fix the misalignments highlighted above and try upgrading again`;
  }
  if (errors.skippable.length === 0) return undefined;
  if (!force)
    return `the --version argument is invalid due to these errors:\n\n${bullets(errors.skippable)}\nCan be bypassed if you pass the --force flag`;
  say(
    `[upgrade/version] Found ${errors.skippable.length} potential version compatibility errors but skipping since the --force flag is set: \n\n${bullets(errors.skippable)}`,
  );
  return undefined;
}
