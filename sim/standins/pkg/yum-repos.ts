// dnf/yum repositories: /etc/yum.repos.d/*.repo, --repofrompath, --repo / --enablerepo / --disablerepo,
// excludes (lifted by --disableexcludes) and versionlock (NodeState.holds).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostPath, type ClusterSpec, type NodeState, type ToolContext } from '../context.ts';
import { K8S_PACKAGES, globMatches, publishedIn, repoMinor, rpmVersion } from './repo.ts';

export interface YumRepo {
  id: string;
  baseurl: string;
  enabled: boolean;
  exclude: string[];
}

export interface YumArgs {
  command?: string;
  operands: string[];
  assumeYes: boolean;
  quiet: boolean;
  showDuplicates: boolean;
  disableExcludes: string[];
  repoFromPath: { id: string; url: string }[];
  /** enable/disable operations in command-line order */
  repoToggles: { enable: boolean; pattern: string }[];
  disabledPlugins: string[];
}

function optionValue(args: string[], i: number, name: string): [string, number] {
  const arg = args[i] ?? '';
  if (arg.startsWith(`${name}=`)) return [arg.slice(name.length + 1), i];
  return [args[i + 1] ?? '', i + 1];
}

export function parseYumArgs(args: string[]): YumArgs {
  const parsed: YumArgs = {
    operands: [],
    assumeYes: false,
    quiet: false,
    showDuplicates: false,
    disableExcludes: [],
    repoFromPath: [],
    repoToggles: [],
    disabledPlugins: [],
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    const name = arg.split('=')[0] ?? arg;
    let value: string;
    if (arg === '-y' || arg === '--assumeyes') parsed.assumeYes = true;
    else if (arg === '-q' || arg === '--quiet') parsed.quiet = true;
    else if (arg === '--showduplicates') parsed.showDuplicates = true;
    else if (name === '--disableexcludes' || name === '--disableexcludepkgs') {
      [value, i] = optionValue(args, i, name);
      parsed.disableExcludes.push(...value.split(','));
    } else if (name === '--repofrompath') {
      [value, i] = optionValue(args, i, name);
      const [id = '', url = ''] = value.split(/,(.*)/s);
      parsed.repoFromPath.push({ id, url });
    } else if (name === '--repo' || name === '--repoid') {
      [value, i] = optionValue(args, i, name);
      parsed.repoToggles.push({ enable: false, pattern: '*' }, ...value.split(',').map((p) => ({ enable: true, pattern: p })));
    } else if (name === '--enablerepo' || name === '--disablerepo') {
      [value, i] = optionValue(args, i, name);
      parsed.repoToggles.push(...value.split(',').map((p) => ({ enable: name === '--enablerepo', pattern: p })));
    } else if (name === '--disableplugin') {
      [value, i] = optionValue(args, i, name);
      parsed.disabledPlugins.push(...value.split(','));
    } else if (arg.startsWith('-'))
      continue; // --nogpgcheck, --setopt=..., -C and friends change nothing here
    else if (parsed.command === undefined) parsed.command = arg;
    else parsed.operands.push(arg);
  }
  return parsed;
}

function parseRepoFile(text: string): YumRepo[] {
  const repos: YumRepo[] = [];
  let current: YumRepo | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const section = /^\[(.+)\]$/.exec(line);
    if (section?.[1]) {
      current = { id: section[1], baseurl: '', enabled: true, exclude: [] };
      repos.push(current);
      continue;
    }
    const kv = /^([A-Za-z_]+)\s*=\s*(.*)$/.exec(line);
    if (!current || !kv?.[1]) continue;
    const value = kv[2] ?? '';
    if (kv[1] === 'baseurl') current.baseurl = value.trim();
    else if (kv[1] === 'enabled') current.enabled = value.trim() !== '0';
    else if (kv[1] === 'exclude' || kv[1] === 'excludepkgs') current.exclude.push(...value.split(/[\s,]+/).filter(Boolean));
  }
  return repos;
}

/** The repositories this invocation uses, with the command line's enable/disable applied. */
export function activeRepos(ctx: ToolContext, args: YumArgs): YumRepo[] {
  const dir = hostPath(ctx, '/etc/yum.repos.d');
  const repos: YumRepo[] = [];
  if (existsSync(dir)) {
    for (const name of readdirSync(dir).sort()) {
      if (name.endsWith('.repo')) repos.push(...parseRepoFile(readFileSync(join(dir, name), 'utf8')));
    }
  }
  for (const extra of args.repoFromPath) repos.push({ id: extra.id, baseurl: extra.url, enabled: true, exclude: [] });
  for (const toggle of args.repoToggles) {
    for (const repo of repos) if (globMatches(toggle.pattern, repo.id)) repo.enabled = toggle.enable;
  }
  return repos.filter((r) => r.enabled);
}

export interface RpmOffer {
  name: string;
  /** "1.31.2-150500.1.1" */
  version: string;
  repo: string;
  /** hidden by the repo's exclude= (not lifted by --disableexcludes) */
  excluded: boolean;
}

/** Every package version the active repositories offer. */
export function offers(cluster: ClusterSpec, repos: YumRepo[], args: YumArgs): RpmOffer[] {
  const result: RpmOffer[] = [];
  for (const repo of repos) {
    const minor = repoMinor(repo.baseurl, 'rpm');
    if (!minor) continue;
    const lifted = args.disableExcludes.some((d) => d === 'all' || d === repo.id);
    for (const name of K8S_PACKAGES) {
      const excluded = !lifted && repo.exclude.some((pattern) => globMatches(pattern, name));
      for (const v of publishedIn(cluster, minor)) result.push({ name, version: rpmVersion(v), repo: repo.id, excluded });
    }
  }
  return result;
}

/** The version ("1.30.5") a versionlock pins `name` at, when it is locked. */
export function lockedVersion(state: NodeState, name: string): string | undefined {
  if (!state.holds.includes(name)) return undefined;
  return state.versionlocks?.[name] ?? state.packages[name as keyof NodeState['packages']];
}

/**
 * versionlock hides every repository version of a locked package but the locked one (dnf's versionlock plugin
 * adds them to the excludes), unless the plugin or all excludes are off.
 */
export function lockedAway(state: NodeState, args: YumArgs, offer: RpmOffer): boolean {
  if (args.disabledPlugins.some((p) => globMatches(p, 'versionlock')) || args.disableExcludes.includes('all')) return false;
  const locked = lockedVersion(state, offer.name);
  return locked !== undefined && offer.version !== rpmVersion(locked);
}

/** Splits "kubeadm-1.31.2-150500.1.1", "kubeadm-'1.31.2-*'", "kubeadm-0:1.31.2*.x86_64" or "kubeadm" into name and version glob. */
export function parsePackageSpec(spec: string): { name: string; pattern: string } {
  const clean = spec.replace(/'/g, '').replace(/\.(x86_64|noarch)$/, '');
  for (const name of [...K8S_PACKAGES, 'cri-tools', 'kubernetes-cni']) {
    if (clean === name) return { name, pattern: '*' };
    if (clean.startsWith(`${name}-`)) {
      const version = clean.slice(name.length + 1).replace(/^\d+:/, '');
      return { name, pattern: version.includes('-') || version.endsWith('*') ? version : `${version}-*` };
    }
  }
  return { name: clean, pattern: '*' };
}
