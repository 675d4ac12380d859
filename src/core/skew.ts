// Version-skew verdicts: kubeadm's policy (cmd/kubeadm/app/phases/upgrade/policy.go) and the upstream
// version-skew policy, evaluated for the plan. The kubeadm that runs `upgrade apply` is the target's own
// (the plan installs it first), so checks against the installed kubeadm are informative only.
import type { ClusterState, ControlPlaneComponent } from './cluster-state.ts';
import type { Severity, SkewVerdict } from './plan-types.ts';
import { capNames, listText } from './util.ts';
import { compareVersions, imageTag, minorKey, parseVersion, type KubeVersion } from './versions.ts';

/** pkgs.k8s.io starts at v1.24 and kubeadm only upgrades from the previous minor: older targets cannot be planned. */
export const OLDEST_TARGET_MINOR = 24;

/** kubeadm's MaximumAllowedMinorVersionKubeletSkew for the kubeadm version that runs (PR #120825: 3 since 1.29). */
export function kubeadmKubeletSkew(kubeadmMinor: number): number {
  return kubeadmMinor >= 29 ? 3 : 1;
}

/** Upstream: kubelets may be 3 minors older than kube-apiserver (2 for kubelets older than 1.25). */
export function upstreamKubeletSkew(kubeletMinor: number): number {
  return kubeletMinor < 25 ? 2 : 3;
}

export interface SkewInput {
  state: ClusterState;
  /** control-plane version now; undefined when unreadable */
  current: KubeVersion | undefined;
  /** target version (patch 0 when only the minor is known) */
  target: KubeVersion;
  /** true when the plan lists hops for a multi-minor request (skipping is then reported by the hops) */
  multiHop: boolean;
  force: boolean;
}

type Draft = Omit<SkewVerdict, 'nodes' | 'nodeCount' | 'forced'> & { nodeNames?: string[] };

export function skewVerdicts(input: SkewInput): SkewVerdict[] {
  // Hop by hop, the next run targets the next minor: component skew is judged against that first hop.
  const c = input.current;
  const firstHop =
    input.multiHop && c
      ? { ...input, target: { text: `${c.major}.${c.minor + 1}.0`, major: c.major, minor: c.minor + 1, patch: 0, prerelease: false } }
      : input;
  const drafts: Draft[] = [
    ...clusterVersionRules(input),
    ...kubeadmBinaryRules(firstHop),
    ...kubeletRules(firstHop),
    ...controlPlaneRules(firstHop),
    ...clientAndAddonRules(firstHop),
  ];
  return drafts.map(({ nodeNames, ...d }) => ({
    ...d,
    ...capNames(nodeNames ?? []),
    ...(d.severity === 'forceable' && input.force ? { forced: true } : {}),
  }));
}

function verdict(
  id: string,
  source: Draft['source'],
  severity: Severity,
  components: string[],
  message: string,
  nodeNames?: string[],
): Draft {
  return { id, source, severity, components, message, ...(nodeNames ? { nodeNames } : {}) };
}

/** Released versions get mandatory errors; pre-releases only forceable ones (as kubeadm does). */
const releasedOr = (t: KubeVersion): Severity => (t.prerelease ? 'forceable' : 'mandatory');

function clusterVersionRules({ current, target, multiHop }: SkewInput): Draft[] {
  const out: Draft[] = [];
  const cp = ['kube-apiserver'];
  if (target.minor < OLDEST_TARGET_MINOR) {
    out.push(
      verdict(
        'target-below-minimum',
        'action',
        'mandatory',
        cp,
        `target ${target.text} is below the oldest supported version 1.${OLDEST_TARGET_MINOR}.0 (pkgs.k8s.io starts there); choose a newer target`,
      ),
    );
  }
  if (target.prerelease) {
    out.push(
      verdict(
        'pre-release',
        'kubeadm',
        'forceable',
        cp,
        `target ${target.text} is a pre-release: kubeadm needs --allow-release-candidate-upgrades / --allow-experimental-upgrades; pass force: true to accept it`,
      ),
    );
  }
  if (!current) {
    out.push(
      verdict(
        'cluster-version-unreadable',
        'kubeadm',
        'mandatory',
        cp,
        'the control-plane version could not be read (no kube-apiserver pod version, no /version): kubeadm refuses to upgrade without it',
      ),
    );
    return out;
  }
  const from = minorKey(current);
  if (target.minor > current.minor + 1) {
    out.push(
      multiHop
        ? verdict(
            'skip-minor',
            'kubeadm',
            'warning',
            cp,
            `${current.text} → ${target.text} skips ${target.minor - current.minor - 1} minor(s): kubeadm refuses that, so the plan lists the hops (one minor at a time)`,
          )
        : verdict(
            'skip-minor',
            'kubeadm',
            releasedOr(target),
            cp,
            `${current.text} → ${target.text} skips a minor: kubeadm upgrades one minor at a time; first target ${current.major}.${current.minor + 1}`,
          ),
    );
  } else if (target.minor < current.minor - 1) {
    out.push(
      verdict(
        'downgrade-more-than-one-minor',
        'kubeadm',
        releasedOr(target),
        cp,
        `${target.text} is more than one minor below the cluster's ${current.text}: kubeadm refuses downgrades of more than one minor`,
      ),
    );
  } else if (compareVersions(target.text, current.text) < 0) {
    out.push(
      verdict(
        'downgrade',
        'action',
        'mandatory',
        cp,
        `target ${target.text} is older than the cluster's ${current.text}: this Action does not downgrade (restore from a backup instead)`,
      ),
    );
  } else {
    out.push(verdict('skip-minor', 'kubeadm', 'ok', cp, `${from} → ${minorKey(target)}: within one minor`));
  }
  return out;
}

function kubeadmBinaryRules({ state, target }: SkewInput): Draft[] {
  const controlPlanes = new Set(state.nodes.filter((n) => n.role === 'control-plane').map((n) => n.name));
  const reports = state.nodeReports.filter((r) => controlPlanes.has(r.name) && r.reachable);
  const newer: string[] = [];
  const unreadable: string[] = [];
  const installed = new Set<string>();
  for (const r of reports) {
    const v = parseVersion(r.kubeadmVersion);
    if (!v) unreadable.push(r.name);
    else {
      installed.add(v.text);
      if (v.minor > target.minor) newer.push(`${r.name} (${v.text})`);
    }
  }
  const out: Draft[] = [];
  if (newer.length > 0) {
    out.push(
      verdict(
        'kubeadm-newer-than-target',
        'kubeadm',
        'warning',
        ['kubeadm'],
        `installed kubeadm is newer than the target on ${listText(newer)}: kubeadm of a newer minor cannot upgrade to ${minorKey(target)}; the run installs kubeadm ${target.text} first (a package downgrade)`,
        newer.map((n) => n.split(' ')[0]!),
      ),
    );
  }
  if (unreadable.length > 0) {
    out.push(
      verdict(
        'kubeadm-version-unreadable',
        'kubeadm',
        'warning',
        ['kubeadm'],
        `the installed kubeadm version could not be read on ${listText(unreadable)}; the run installs kubeadm ${target.text} first`,
        unreadable,
      ),
    );
  }
  const list = [...installed].join(', ');
  out.push(
    verdict(
      'kubeadm-version',
      'kubeadm',
      'ok',
      ['kubeadm'],
      `the run installs kubeadm ${target.text} before kubeadm upgrade apply${list ? ` (installed now: ${list})` : ''}, so kubeadm's own version never limits the target`,
    ),
  );
  return out;
}

function kubeletRules({ state, target }: SkewInput): Draft[] {
  const out: Draft[] = [];
  const unreadable: string[] = [];
  const tooOld: string[] = [];
  const newer: string[] = [];
  const atLimit: string[] = [];
  const kubeadmSkew = kubeadmKubeletSkew(target.minor);
  const versions = new Set<string>();
  for (const node of state.nodes) {
    const v = parseVersion(node.kubeletVersion);
    if (!v) {
      unreadable.push(node.name);
      continue;
    }
    versions.add(v.text);
    if (target.minor > v.minor + kubeadmSkew) tooOld.push(node.name);
    else if (v.minor > target.minor) newer.push(node.name);
    else if (target.minor - v.minor === upstreamKubeletSkew(v.minor)) atLimit.push(node.name);
  }
  if (unreadable.length > 0)
    out.push(
      verdict(
        'kubelet-version-unreadable',
        'kubeadm',
        'forceable',
        ['kubelet'],
        `kubelet versions could not be read on ${listText(unreadable)}`,
        unreadable,
      ),
    );
  if (tooOld.length > 0) {
    out.push(
      verdict(
        'kubelet-too-old',
        'kubeadm',
        'forceable',
        ['kubelet'],
        `kubelets too old for ${target.text} on ${listText(tooOld)}: kubeadm ${minorKey(target)} accepts kubelets at most ${kubeadmSkew} minor(s) older; upgrade those nodes first or pass force: true`,
        tooOld,
      ),
    );
  }
  if (newer.length > 0) {
    out.push(
      verdict(
        'upstream-kubelet-newer',
        'upstream',
        'mandatory',
        ['kubelet', 'kube-apiserver'],
        `kubelets newer than the target ${minorKey(target)} on ${listText(newer)}: a kubelet must never be newer than kube-apiserver`,
        newer,
      ),
    );
  }
  if (atLimit.length > 0) {
    out.push(
      verdict(
        'upstream-kubelet-lag',
        'upstream',
        'warning',
        ['kubelet'],
        `kubelets on ${listText(atLimit)} will be ${minorKey(target)}'s oldest supported kubelets until the run reaches them; they must be upgraded before the next control-plane upgrade`,
        atLimit,
      ),
    );
  }
  if (out.length === 0)
    out.push(
      verdict(
        'kubelet-skew',
        'kubeadm',
        'ok',
        ['kubelet'],
        `every kubelet (${[...versions].join(', ') || 'none'}) is within ${kubeadmSkew} minor(s) of ${minorKey(target)} and not newer`,
      ),
    );
  return out;
}

function podsOf(state: ClusterState, component: ControlPlaneComponent) {
  return state.controlPlanePods.filter((p) => p.component === component).map((p) => ({ node: p.node, v: parseVersion(p.version) }));
}

function controlPlaneRules({ state, target }: SkewInput): Draft[] {
  const out: Draft[] = [];
  const apiservers = podsOf(state, 'kube-apiserver').filter((p) => p.v);
  const minors = apiservers.map((p) => p.v!.minor);
  if (minors.length > 1) {
    const spread = Math.max(...minors) - Math.min(...minors);
    if (spread > 1)
      out.push(
        verdict(
          'upstream-apiserver-ha',
          'upstream',
          'mandatory',
          ['kube-apiserver'],
          `kube-apiservers are ${spread} minors apart (${apiservers.map((p) => `${p.node} ${p.v!.text}`).join(', ')}): HA apiservers must be within one minor; repair the control plane first`,
          apiservers.map((p) => p.node),
        ),
      );
    else if (spread === 1)
      out.push(
        verdict(
          'upstream-apiserver-ha',
          'upstream',
          'warning',
          ['kube-apiserver'],
          `kube-apiservers run two minors (${apiservers.map((p) => `${p.node} ${p.v!.text}`).join(', ')}): an earlier upgrade did not finish; this run continues it`,
          apiservers.map((p) => p.node),
        ),
      );
  }
  for (const component of ['kube-controller-manager', 'kube-scheduler'] as const) {
    const lagging = podsOf(state, component).filter((p) => p.v && target.minor - p.v.minor > 1);
    const ahead = podsOf(state, component).filter((p) => p.v && p.v.minor > target.minor);
    if (lagging.length > 0)
      out.push(
        verdict(
          `upstream-${component}`,
          'upstream',
          'mandatory',
          [component, 'kube-apiserver'],
          `${component} on ${listText(lagging.map((p) => `${p.node} (${p.v!.text})`))} would be more than one minor older than kube-apiserver ${minorKey(target)} during the upgrade`,
          lagging.map((p) => p.node),
        ),
      );
    if (ahead.length > 0)
      out.push(
        verdict(
          `upstream-${component}`,
          'upstream',
          'mandatory',
          [component, 'kube-apiserver'],
          `${component} on ${listText(ahead.map((p) => `${p.node} (${p.v!.text})`))} is newer than the target ${minorKey(target)}: it must not be newer than kube-apiserver`,
          ahead.map((p) => p.node),
        ),
      );
  }
  if (out.length === 0)
    out.push(
      verdict(
        'upstream-control-plane',
        'upstream',
        'ok',
        ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'],
        'control-plane components stay within the upstream skew during the upgrade',
      ),
    );
  return out;
}

function clientAndAddonRules({ state, target }: SkewInput): Draft[] {
  const out: Draft[] = [];
  const farKubectl = state.nodeReports.filter((r) => {
    const v = parseVersion(r.kubectlVersion);
    return v !== undefined && Math.abs(target.minor - v.minor) > 1;
  });
  if (farKubectl.length > 0) {
    out.push(
      verdict(
        'upstream-kubectl',
        'upstream',
        'warning',
        ['kubectl'],
        `kubectl on ${listText(farKubectl.map((r) => `${r.name} (${r.kubectlVersion})`))} is more than one minor from ${minorKey(target)} until the run upgrades it there`,
        farKubectl.map((r) => r.name),
      ),
    );
  }
  const proxy = parseVersion(imageTag(state.addons.kubeProxyImage));
  if (proxy && proxy.minor > target.minor) {
    out.push(
      verdict(
        'upstream-kube-proxy',
        'upstream',
        'mandatory',
        ['kube-proxy'],
        `kube-proxy ${proxy.text} is newer than the target ${minorKey(target)}: kube-proxy must not be newer than kube-apiserver`,
      ),
    );
  }
  return out;
}
