// Which version the plan targets: from the versions published for the target minor on every node's OS
// (read without changing the node), "1.31" → newest patch, an exact version must be published.
import type { ClusterState, NodeReport } from './cluster-state.ts';
import type { Inventory } from './inventory.ts';
import type { Hop, PackageManager, TargetResolution } from './plan-types.ts';
import { capNames } from './util.ts';
import {
  compareVersions,
  minorKey,
  parseVersion,
  specVersion,
  splitPackageVersion,
  type KubeVersion,
  type TargetSpec,
} from './versions.ts';

/** The control plane's version: the lowest kube-apiserver static pod, else the API server's /version. */
export function currentControlPlaneVersion(state: ClusterState): KubeVersion | undefined {
  const apiservers = state.controlPlanePods
    .filter((p) => p.component === 'kube-apiserver')
    .map((p) => parseVersion(p.version))
    .filter((v): v is KubeVersion => v !== undefined)
    .sort((a, b) => compareVersions(a.text, b.text));
  return apiservers[0] ?? parseVersion(state.serverVersion);
}

interface Published {
  versions: Set<string>;
  /** version → package version with revision, when listed with one */
  revisions: Map<string, string>;
}

/** Versions of one minor a node lists, read-only; undefined when the node could not list them. */
function publishedFor(report: NodeReport | undefined, minor: string): Published | undefined {
  if (!report?.reachable) return undefined;
  const raw = report.publishedInTargetMinor ?? (report.repoMinor === minor ? report.publishedInRepo : undefined);
  if (!raw) return undefined;
  const out: Published = { versions: new Set(), revisions: new Map() };
  for (const entry of raw) {
    const split = splitPackageVersion(entry);
    const v = split && parseVersion(split.version);
    if (!v || minorKey(v) !== minor) continue;
    out.versions.add(v.text);
    const exact = report.publishedPackageVersions?.[v.text] ?? (split.revision ? entry.trim().replace(/^v/, '') : undefined);
    if (exact) out.revisions.set(v.text, exact);
  }
  return out;
}

/**
 * The exact package version of `version` per package manager. Nodes of one package manager normally list the
 * same revision (one pkgs.k8s.io repository per minor); when they do not, or some list none, that package
 * manager gets no entry, and each of its nodes reads its own revision right before installing.
 */
function packageVersionsFor(
  version: string,
  readable: { published: Published; pm?: PackageManager }[],
): TargetResolution['packageVersions'] {
  const seen = new Map<PackageManager, Set<string | undefined>>();
  for (const r of readable) {
    if (!r.pm) continue;
    const set = seen.get(r.pm) ?? new Set();
    set.add(r.published.revisions.get(version));
    seen.set(r.pm, set);
  }
  const out: TargetResolution['packageVersions'] = {};
  for (const [pm, revisions] of seen) {
    const [only] = [...revisions];
    if (revisions.size === 1 && only) out[pm] = only;
  }
  return out;
}

function newest(versions: Iterable<string>, stableOnly: boolean): string | undefined {
  const list = [...versions].filter((v) => !stableOnly || !parseVersion(v)?.prerelease).sort(compareVersions);
  return list.at(-1);
}

export function resolveTarget(spec: TargetSpec, state: ClusterState, inventory: Inventory): TargetResolution {
  const minor = minorKey(spec);
  const reports = new Map(state.nodeReports.map((r) => [r.name, r]));
  const readable: { node: string; published: Published; pm?: PackageManager }[] = [];
  const unreadable: string[] = [];
  for (const node of inventory.nodes) {
    const report = reports.get(node.name);
    const published = publishedFor(report, minor);
    if (published) readable.push({ node: node.name, published, ...(report?.packageManager ? { pm: report.packageManager } : {}) });
    else unreadable.push(node.name);
  }
  const exact = specVersion(spec);
  const base = { requested: spec.raw, unreadable: capNames(unreadable), packageVersions: {} };
  if (readable.length === 0) {
    if (exact)
      return {
        ...base,
        version: exact,
        verified: false,
        reason: `not verified as published: no node could list the ${minor} packages without changing its repository configuration`,
      };
    return {
      ...base,
      verified: false,
      reason: `no node could list the versions published for ${minor} without changing it; give an exact version such as ${minor}.0 in target-version`,
    };
  }
  let common = new Set(readable[0]!.published.versions);
  for (const r of readable.slice(1)) common = new Set([...common].filter((v) => r.published.versions.has(v)));
  const newestPublished = newest(common, true);
  const withNewest = newestPublished ? { ...base, newestPublished } : base;
  const version = exact ?? newestPublished;
  if (!version) {
    const perNode = readable.slice(0, 3).map((r) => `${r.node}: ${newest(r.published.versions, false) ?? 'none'}`);
    return {
      ...withNewest,
      verified: false,
      reason: `no ${minor} patch is published for every node's OS (newest per node: ${perNode.join(', ')})`,
    };
  }
  const missing = readable.filter((r) => !r.published.versions.has(version)).map((r) => r.node);
  if (missing.length > 0) {
    return {
      ...withNewest,
      verified: false,
      reason: `${version} is not published for ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}${newestPublished ? ` (newest published for every node: ${newestPublished})` : ''}`,
    };
  }
  const packageVersions = packageVersionsFor(version, readable);
  const partly =
    unreadable.length > 0
      ? `published for every readable node; not verified on ${unreadable.length} node(s) that could not list packages`
      : undefined;
  return { ...withNewest, version, verified: unreadable.length === 0, packageVersions, ...(partly ? { reason: partly } : {}) };
}

/** The minors between the current version and the target: 1.29 → 1.31 is 1.29 → 1.30.x → 1.31.y. */
export function planHops(current: KubeVersion | undefined, spec: TargetSpec, target: TargetResolution, state: ClusterState): Hop[] {
  if (!current || spec.minor <= current.minor) return [];
  const hops: Hop[] = [];
  let from = minorKey(current);
  for (let m = current.minor + 1; m < spec.minor; m++) {
    const minor = `${spec.major}.${m}`;
    const known = intermediateNewest(state, minor);
    hops.push({ fromMinor: from, to: known ?? `${minor}.latest`, resolved: known !== undefined });
    from = minor;
  }
  hops.push({ fromMinor: from, to: target.version ?? `${minorKey(spec)}.latest`, resolved: target.version !== undefined });
  return hops;
}

/** Newest patch of an intermediate minor, known only when every reachable node's repository is at that minor. */
function intermediateNewest(state: ClusterState, minor: string): string | undefined {
  const lists = state.nodeReports
    .filter((r) => r.reachable)
    .map((r) => publishedFor({ ...r, publishedInTargetMinor: undefined } as NodeReport, minor));
  if (lists.length === 0 || lists.some((l) => !l || l.versions.size === 0)) return undefined;
  let common = new Set(lists[0]!.versions);
  for (const l of lists.slice(1)) common = new Set([...common].filter((v) => l!.versions.has(v)));
  return newest(common, true);
}
