// The simulated pkgs.k8s.io for one cluster: its repositories (built or taken from the cache), what its server
// serves (DIR/pkgs), and each node's packages installed from it by the real tools before the node starts.
import { copyFile, mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { minorOf } from '../cluster/versions.ts';
import type { ClusterSpec, SimNodeSpec } from '../node/spec.ts';
import { ensureMinorRepo, ensureSigningKey, pkgsCacheDir, type MinorRepo, type SigningKey } from './build.ts';
import { ensureTemplate, type PackageSetup } from './templates.ts';

export interface PreparedPackages {
  key: SigningKey;
  /** address → minor → repository; the main server and each mirror */
  sites: Map<string, Map<string, MinorRepo>>;
}

function byMinor(versions: readonly string[]): Map<string, string[]> {
  const minors = new Map<string, string[]>();
  for (const v of versions) minors.set(minorOf(v), [...(minors.get(minorOf(v)) ?? []), v]);
  return minors;
}

async function repositories(cache: string, key: SigningKey, published: readonly string[]): Promise<Map<string, MinorRepo>> {
  const repos = new Map<string, MinorRepo>();
  for (const [minor, versions] of byMinor(published)) repos.set(minor, await ensureMinorRepo(cache, key, minor, versions));
  return repos;
}

/** Builds (or finds in the cache) the release key and every repository the cluster and its mirrors serve. */
export async function preparePackages(spec: ClusterSpec): Promise<PreparedPackages> {
  const cache = pkgsCacheDir(spec.repoRoot);
  const key = await ensureSigningKey(cache);
  const sites = new Map<string, Map<string, MinorRepo>>();
  sites.set(spec.pkgs.address, await repositories(cache, key, spec.published));
  for (const mirror of spec.pkgs.mirrors ?? []) sites.set(mirror.address, await repositories(cache, key, mirror.published));
  return { key, sites };
}

/** DIR/pkgs: the served trees (symlinks into the cache) and the server's certificate. */
export async function writePkgsRoot(spec: ClusterSpec, prepared: PreparedPackages): Promise<void> {
  const base = join(spec.dir, 'pkgs');
  await mkdir(join(base, 'tls'), { recursive: true });
  await copyFile(prepared.key.serverCert, join(base, 'tls', 'pkgs.k8s.io.crt'));
  await copyFile(prepared.key.serverKey, join(base, 'tls', 'pkgs.k8s.io.key'));
  for (const [address, repos] of prepared.sites) {
    const root = address === spec.pkgs.address ? join(base, 'root') : join(base, 'mirrors', address);
    await mkdir(join(root, 'core:', 'stable:'), { recursive: true });
    for (const [minor, repo] of repos) await symlink(repo.dir, join(root, 'core:', 'stable:', `v${minor}`));
  }
}

/** The address a node resolves pkgs.k8s.io to: a mirror that lists it, else the cluster's server. */
export function pkgsAddressOf(spec: ClusterSpec, node: SimNodeSpec): string {
  return spec.pkgs.mirrors?.find((m) => m.nodes.includes(node.name))?.address ?? spec.pkgs.address;
}

function setupOf(spec: ClusterSpec, prepared: PreparedPackages, node: SimNodeSpec): PackageSetup {
  const address = pkgsAddressOf(spec, node);
  const repo = prepared.sites.get(address)?.get(minorOf(node.version));
  if (!repo) throw new Error(`pkgs.k8s.io at ${address} has no ${minorOf(node.version)} repository for ${node.name}`);
  return { os: node.os, version: node.version, repo, versionlock: node.versionlock !== false };
}

/** Every node's package template, made by the real apt/dpkg or dnf/rpm against the running server (two at a time). */
export async function nodeTemplates(spec: ClusterSpec, prepared: PreparedPackages): Promise<Map<string, string>> {
  const cache = pkgsCacheDir(spec.repoRoot);
  const byKey = new Map<string, { setup: PackageSetup; address: string; nodes: string[] }>();
  for (const node of spec.nodes) {
    const setup = setupOf(spec, prepared, node);
    const key = JSON.stringify(setup);
    const entry = byKey.get(key) ?? { setup, address: pkgsAddressOf(spec, node), nodes: [] };
    entry.nodes.push(node.name);
    byKey.set(key, entry);
  }
  const templates = new Map<string, string>();
  const queue = [...byKey.values()];
  await Promise.all(
    [0, 1].map(async () => {
      for (let entry = queue.shift(); entry; entry = queue.shift()) {
        const template = await ensureTemplate(cache, prepared.key, entry.setup, entry.address);
        for (const name of entry.nodes) templates.set(name, template);
      }
    }),
  );
  return templates;
}
