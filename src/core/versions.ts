// Kubernetes version strings: the target-version input, API versions ("v1.30.5"), image tags and
// package versions with a revision ("1.30.5-1.1" deb, "1.30.5-150500.1.1" rpm).
import semver from 'semver';

/** The parsed `target-version` input: "1.31" leaves patch undefined (= newest published patch). */
export interface TargetSpec {
  raw: string;
  major: number;
  minor: number;
  patch?: number;
  /** "rc.1" for "1.32.0-rc.1"; only with a patch */
  prerelease?: string;
}

const TARGET = /^v?(0|[1-9]\d{0,3})\.(0|[1-9]\d{0,3})(?:\.(0|[1-9]\d{0,3})(?:-((?:alpha|beta|rc)\.(?:0|[1-9]\d{0,3})))?)?$/;

/** Parses `v1.31.4`, `1.31.4`, `1.31` or `1.32.0-rc.1`; returns a problem text when malformed. */
export function parseTargetSpec(raw: string): TargetSpec | { problem: string } {
  const value = raw.trim();
  const m = TARGET.exec(value);
  if (!m) {
    return {
      problem: `${JSON.stringify(value.slice(0, 60))} is not a Kubernetes version (expected v1.31.4, 1.31.4 or 1.31; pre-releases as 1.32.0-rc.1)`,
    };
  }
  const spec: TargetSpec = { raw: value, major: Number(m[1]), minor: Number(m[2]) };
  if (m[3] !== undefined) spec.patch = Number(m[3]);
  if (m[4] !== undefined) spec.prerelease = m[4];
  if (spec.major !== 1) return { problem: `${JSON.stringify(value)} has major version ${spec.major}; kubeadm upgrades Kubernetes 1.x` };
  return spec;
}

/** A version that compares; `text` is "1.30.5" or "1.32.0-rc.1" (no "v"). */
export interface KubeVersion {
  text: string;
  major: number;
  minor: number;
  patch: number;
  prerelease: boolean;
}

/** Parses "v1.30.5", "1.30.5", "1.30.5-rc.1", "1.30.5+build"; undefined when unreadable. */
export function parseVersion(value: string | undefined): KubeVersion | undefined {
  if (!value) return undefined;
  const parsed = semver.parse(value.trim().replace(/^v/, ''), { loose: false });
  if (!parsed) return undefined;
  const text =
    parsed.prerelease.length > 0
      ? `${parsed.major}.${parsed.minor}.${parsed.patch}-${parsed.prerelease.join('.')}`
      : `${parsed.major}.${parsed.minor}.${parsed.patch}`;
  return { text, major: parsed.major, minor: parsed.minor, patch: parsed.patch, prerelease: parsed.prerelease.length > 0 };
}

/** Splits a package version "1.30.5-1.1" / "1.31.0~rc.1-1.1" into the Kubernetes version and the revision. */
export function splitPackageVersion(value: string): { version: string; revision?: string } | undefined {
  const m = /^v?(\d+\.\d+\.\d+)(?:[~-]((?:alpha|beta|rc)\.\d+))?(?:-(\d[0-9A-Za-z.+~]*))?$/.exec(value.trim());
  if (!m) return undefined;
  const version = m[2] ? `${m[1]}-${m[2]}` : m[1]!;
  return m[3] ? { version, revision: m[3] } : { version };
}

export function compareVersions(a: string, b: string): number {
  return semver.compare(a, b);
}

/** "1.31" */
export function minorKey(v: { major: number; minor: number }): string {
  return `${v.major}.${v.minor}`;
}

/** Version text for a spec that has a patch: "1.31.4" or "1.32.0-rc.1". */
export function specVersion(spec: TargetSpec): string | undefined {
  if (spec.patch === undefined) return undefined;
  return spec.prerelease ? `${spec.major}.${spec.minor}.${spec.patch}-${spec.prerelease}` : `${spec.major}.${spec.minor}.${spec.patch}`;
}

/** Tag of an image reference: "registry.k8s.io/coredns/coredns:v1.11.3" → "v1.11.3". */
export function imageTag(image: string | undefined): string | undefined {
  if (!image) return undefined;
  const at = image.indexOf('@');
  const ref = at >= 0 ? image.slice(0, at) : image;
  const colon = ref.lastIndexOf(':');
  return colon > ref.lastIndexOf('/') ? ref.slice(colon + 1) : undefined;
}
