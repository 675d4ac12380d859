// apt's command line (-o Dir::... options, -y, -q) and its files: sources and fetched package lists.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, posix } from 'node:path';
import { hostPath, type ClusterSpec, type ToolContext } from '../context.ts';
import { DESCRIPTIONS, K8S_PACKAGES, comparePackageVersions, debVersion, publishedIn, upstreamOf } from './repo.ts';

export interface AptArgs {
  options: Map<string, string>;
  quiet: number;
  assumeYes: boolean;
  allowHeld: boolean;
  allowDowngrades: boolean;
  positional: string[];
}

const IGNORED_LONG = new Set([
  '--no-install-recommends',
  '--install-recommends',
  '--allow-unauthenticated',
  '--reinstall',
  '--fix-broken',
  '--no-upgrade',
  '--only-upgrade',
  '--allow-releaseinfo-change',
  '--all-versions',
]);

export class AptUsageError extends Error {}

/** Parses apt-get/apt-cache style arguments; throws AptUsageError with apt's wording for unknown options. */
export function parseAptArgs(args: string[]): AptArgs {
  const parsed: AptArgs = { options: new Map(), quiet: 0, assumeYes: false, allowHeld: false, allowDowngrades: false, positional: [] };
  const setOption = (text: string | undefined): void => {
    const at = text?.indexOf('=') ?? -1;
    if (!text || at <= 0) throw new AptUsageError(`E: Missing an equals sign in option -o ${text ?? ''}`);
    parsed.options.set(text.slice(0, at).toLowerCase(), text.slice(at + 1));
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '-o' || arg === '--option') setOption(args[++i]);
    else if (arg.startsWith('-o') && !arg.startsWith('--')) setOption(arg.slice(2));
    else if (arg.startsWith('--option=')) setOption(arg.slice('--option='.length));
    else if (['--yes', '--assume-yes'].includes(arg)) parsed.assumeYes = true;
    else if (arg === '--quiet') parsed.quiet += 1;
    else if (arg === '--allow-change-held-packages') parsed.allowHeld = true;
    else if (arg === '--allow-downgrades') parsed.allowDowngrades = true;
    else if (IGNORED_LONG.has(arg)) continue;
    else if (arg.startsWith('--'))
      throw new AptUsageError(`E: Command line option --${arg.slice(2)} is not understood in combination with the other options`);
    else if (/^-[a-zA-Z]+$/.test(arg)) {
      for (const flag of arg.slice(1)) {
        if (flag === 'y') parsed.assumeYes = true;
        else if (flag === 'q') parsed.quiet += 1;
        else
          throw new AptUsageError(
            `E: Command line option '${flag}' [from ${arg}] is not understood in combination with the other options.`,
          );
      }
    } else parsed.positional.push(arg);
  }
  return parsed;
}

function configPath(args: AptArgs, key: string, fallback: string, base: string): string {
  const value = args.options.get(key.toLowerCase()) ?? fallback;
  return value === '-' || value.startsWith('/') ? value : posix.join(base, value);
}

export function listsDir(args: AptArgs): string {
  return configPath(args, 'Dir::State::Lists', '/var/lib/apt/lists', '/var/lib/apt');
}

export interface SourceEntry {
  uri: string;
  suite: string;
}

function oneLineSources(text: string): SourceEntry[] {
  const entries: SourceEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line.startsWith('deb ')) continue;
    const words = line
      .slice(4)
      .replace(/\[[^\]]*\]/, ' ')
      .trim()
      .split(/\s+/);
    if (words[0] && words[1]) entries.push({ uri: words[0], suite: words[1] });
  }
  return entries;
}

function deb822Sources(text: string): SourceEntry[] {
  const entries: SourceEntry[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'mi').exec(stanza)?.[1]?.trim() ?? '';
    if (!field('Types').split(/\s+/).includes('deb') || /^enabled:\s*no/im.test(stanza)) continue;
    for (const uri of field('URIs').split(/\s+/).filter(Boolean)) {
      for (const suite of field('Suites').split(/\s+/).filter(Boolean)) entries.push({ uri, suite });
    }
  }
  return entries;
}

/** Dir::Etc::sourcelist plus the *.list / *.sources files in Dir::Etc::sourceparts ("-" = none). */
export function readSources(ctx: ToolContext, args: AptArgs): SourceEntry[] {
  const entries: SourceEntry[] = [];
  const list = configPath(args, 'Dir::Etc::sourcelist', '/etc/apt/sources.list', '/etc/apt');
  if (list !== '-' && existsSync(hostPath(ctx, list))) entries.push(...oneLineSources(readFileSync(hostPath(ctx, list), 'utf8')));
  const parts = configPath(args, 'Dir::Etc::sourceparts', '/etc/apt/sources.list.d', '/etc/apt');
  if (parts !== '-' && existsSync(hostPath(ctx, parts))) {
    for (const name of readdirSync(hostPath(ctx, parts)).sort()) {
      const text = () => readFileSync(join(hostPath(ctx, parts), name), 'utf8');
      if (name.endsWith('.list')) entries.push(...oneLineSources(text()));
      else if (name.endsWith('.sources')) entries.push(...deb822Sources(text()));
    }
  }
  return entries;
}

/** apt's display form of a flat repository URI: no trailing slash ("https://pkgs.k8s.io/core:/stable:/v1.30/deb"). */
export function displayUri(uri: string): string {
  return uri.replace(/\/+$/, '');
}

/** The lists file name prefix apt derives from a URI: scheme dropped, "/" → "_". */
export function listsBase(uri: string): string {
  return displayUri(uri)
    .replace(/^[a-z]+:\/\//, '')
    .replace(/\//g, '_');
}

export interface ListsFile {
  name: string;
  content: string;
}

function packagesStanzas(versions: string[]): string {
  const stanzas: string[] = [];
  for (const name of K8S_PACKAGES) {
    for (const version of versions) {
      const full = debVersion(version);
      stanzas.push(
        [
          `Package: ${name}`,
          `Version: ${full}`,
          'Architecture: amd64',
          'Maintainer: Kubernetes Authors <dev@kubernetes.io>',
          `Filename: amd64/${name}_${full}_amd64.deb`,
          `Size: ${9_000_000 + name.length * 1_000_000}`,
          `Description: ${DESCRIPTIONS[name]}`,
        ].join('\n'),
      );
    }
  }
  return `${stanzas.join('\n\n')}\n`;
}

/**
 * The files `apt-get update` leaves in the lists directory for one pkgs.k8s.io minor (also what a
 * freshly set-up node should have): <base>_InRelease and <base>_Packages.
 */
export function aptListsFiles(uri: string, minor: string, versions: string[]): ListsFile[] {
  const packages = packagesStanzas(versions);
  const digest = createHash('sha256').update(packages).digest('hex');
  const release = [
    `Origin: obs://build.opensuse.org/isv:kubernetes:core:stable:v${minor}/deb`,
    `Label: isv:kubernetes:core:stable:v${minor}`,
    'Architectures: amd64 arm64 ppc64le s390x',
    'SHA256:',
    ` ${digest} ${Buffer.byteLength(packages)} Packages`,
    '',
  ].join('\n');
  const base = listsBase(uri);
  return [
    { name: `${base}_InRelease`, content: release },
    { name: `${base}_Packages`, content: packages },
  ];
}

export interface IndexEntry {
  name: string;
  /** with revision: "1.30.5-1.1" */
  version: string;
  /** "https://pkgs.k8s.io/core:/stable:/v1.30/deb" */
  uri: string;
  minor: string;
}

const K8S_LISTS = /^(.*core:_stable:_v(\d+\.\d+)_deb)_Packages$/;

/** Stale pkgs.k8s.io lists files (the ones apt-get update removes when the source is gone). */
export function isK8sListsFile(name: string): boolean {
  return /core:_stable:_v\d+\.\d+_deb_(Packages|InRelease|Release|Release\.gpg)$/.test(name);
}

function stanzaEntries(text: string, uri: string, minor: string): IndexEntry[] {
  const entries: IndexEntry[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const name = /^Package:\s*(\S+)/m.exec(stanza)?.[1];
    const version = /^Version:\s*(\S+)/m.exec(stanza)?.[1];
    if (name && version) entries.push({ name, version, uri, minor });
  }
  return entries;
}

/**
 * What the fetched lists offer, newest first. A lists file without stanzas (seeded by hand) offers every
 * published version of its minor; versions no longer published are not offered.
 */
export function readIndex(ctx: ToolContext, args: AptArgs, cluster: ClusterSpec): IndexEntry[] {
  const dir = hostPath(ctx, listsDir(args));
  if (!existsSync(dir)) return [];
  const entries: IndexEntry[] = [];
  for (const file of readdirSync(dir)) {
    const match = K8S_LISTS.exec(file);
    if (!match?.[1] || !match[2]) continue;
    const uri = `https://${match[1].replace(/_/g, '/')}`;
    const minor = match[2];
    const parsed = stanzaEntries(readFileSync(join(dir, file), 'utf8'), uri, minor);
    entries.push(
      ...(parsed.length > 0
        ? parsed
        : publishedIn(cluster, minor).flatMap((v) => K8S_PACKAGES.map((name) => ({ name, version: debVersion(v), uri, minor })))),
    );
  }
  const published = new Set(cluster.published);
  return entries.filter((e) => published.has(upstreamOf(e.version))).sort((a, b) => comparePackageVersions(b.version, a.version));
}

/** Lines of output apt suppresses at -qq (quiet ≥ 2). */
export function printer(ctx: ToolContext, args: AptArgs): (line: string) => void {
  return (line) => {
    if (args.quiet < 2) ctx.out(`${line}\n`);
  };
}
