// apt-get (and apt) update / install against the simulated pkgs.k8s.io.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clusterSpec, hostPath, readState, updateState, type ToolContext } from '../context.ts';
import {
  AptUsageError,
  aptListsFiles,
  displayUri,
  isK8sListsFile,
  listsDir,
  parseAptArgs,
  printer,
  readIndex,
  readSources,
  type AptArgs,
  type IndexEntry,
} from './apt-config.ts';
import {
  HOLDABLE,
  aptSize,
  comparePackageVersions,
  debVersion,
  globMatches,
  isK8sPackage,
  publishedIn,
  repoMinor,
  upstreamOf,
} from './repo.ts';

export async function aptGet(ctx: ToolContext, argv: string[]): Promise<number> {
  let args: AptArgs;
  try {
    args = parseAptArgs(argv);
  } catch (err) {
    if (!(err instanceof AptUsageError)) throw err;
    ctx.err(`${err.message}\n`);
    return 100;
  }
  const [command, ...rest] = args.positional;
  if (command === 'update') return update(ctx, args);
  if (command === 'install') return install(ctx, args, rest);
  if (command === undefined) {
    ctx.err('E: No operation specified\n');
    return 100;
  }
  ctx.err(`E: Invalid operation ${command}\n`);
  return 100;
}

function sameFiles(dir: string, files: { name: string; content: string }[]): boolean {
  return files.every((f) => existsSync(join(dir, f.name)) && readFileSync(join(dir, f.name), 'utf8') === f.content);
}

function update(ctx: ToolContext, args: AptArgs): number {
  const say = printer(ctx, args);
  const cluster = clusterSpec(ctx);
  const dir = hostPath(ctx, listsDir(args));
  mkdirSync(join(dir, 'partial'), { recursive: true });
  const keep = new Set<string>();
  const failures: string[] = [];
  let item = 0;
  let fetched = 0;
  for (const source of readSources(ctx, args)) {
    item++;
    const minor = repoMinor(source.uri, 'deb');
    const shown = displayUri(source.uri);
    if (!minor) {
      say(`Hit:${item} ${shown} ${source.suite} InRelease`);
      continue;
    }
    const versions = publishedIn(cluster, minor);
    if (versions.length === 0) {
      say(`Err:${item} ${shown}  InRelease\n  404  Not Found [IP: 127.0.0.1 443]`);
      failures.push(shown);
      continue;
    }
    const files = aptListsFiles(source.uri, minor, versions);
    for (const f of files) keep.add(f.name);
    if (sameFiles(dir, files)) {
      say(`Hit:${item} ${shown}  InRelease`);
      continue;
    }
    for (const [index, file] of files.entries()) {
      const size = Buffer.byteLength(file.content);
      say(`Get:${index === 0 ? item : ++item} ${shown}  ${index === 0 ? 'InRelease' : 'Packages'} [${aptSize(size)}]`);
      writeFileSync(join(dir, file.name), file.content);
      fetched += size;
    }
  }
  for (const name of readdirSync(dir)) if (isK8sListsFile(name) && !keep.has(name)) rmSync(join(dir, name), { force: true });
  if (fetched > 0) say(`Fetched ${aptSize(fetched)} in 0s (${aptSize(fetched)}/s)`);
  say('Reading package lists...');
  for (const shown of failures) {
    ctx.err(`E: The repository '${shown}  InRelease' does not have a Release file.\n`);
    ctx.err("N: Updating from such a repository can't be done securely, and is therefore disabled by default.\n");
    ctx.err('N: See apt-secure(8) manpage for repository creation and user configuration details.\n');
  }
  return failures.length > 0 ? 100 : 0;
}

type ChangeKind = 'same' | 'new' | 'upgrade' | 'downgrade';

interface Change {
  name: string;
  entry: IndexEntry;
  installed?: string;
  kind: ChangeKind;
}

/** Resolves "pkg" or "pkg=VERSION" (VERSION may be a glob) against the lists; returns apt's error text on failure. */
function resolveSpec(spec: string, index: IndexEntry[], say: (l: string) => void): IndexEntry | string {
  const at = spec.indexOf('=');
  const name = at < 0 ? spec : spec.slice(0, at);
  const pattern = at < 0 ? undefined : spec.slice(at + 1);
  const offered = index.filter((e) => e.name === name);
  if (!HOLDABLE.includes(name) || offered.length === 0) return `E: Unable to locate package ${name}`;
  const chosen = pattern === undefined ? offered[0] : offered.find((e) => globMatches(pattern, e.version));
  if (!chosen) return `E: Version '${pattern}' for '${name}' was not found`;
  if (pattern !== undefined && pattern !== chosen.version) {
    say(`Selected version '${chosen.version}' (isv:kubernetes:core:stable:v${chosen.minor}:pkgs.k8s.io [amd64]) for '${name}'`);
  }
  return chosen;
}

function planChanges(ctx: ToolContext, args: AptArgs, specs: string[], say: (l: string) => void): Change[] | string[] {
  const index = readIndex(ctx, args, clusterSpec(ctx));
  const state = readState(ctx);
  const errors: string[] = [];
  const changes: Change[] = [];
  for (const spec of specs) {
    const entry = resolveSpec(spec, index, say);
    if (typeof entry === 'string') {
      errors.push(entry);
      continue;
    }
    const installed = isK8sPackage(entry.name) ? debVersion(state.packages[entry.name]) : undefined;
    const order = installed === undefined ? 1 : comparePackageVersions(entry.version, installed);
    const kind: ChangeKind = installed === undefined ? 'new' : order === 0 ? 'same' : order > 0 ? 'upgrade' : 'downgrade';
    changes.push({ name: entry.name, entry, installed, kind });
  }
  return errors.length > 0 ? errors : changes;
}

function listSection(say: (l: string) => void, title: string, names: string[]): void {
  if (names.length > 0) say(`${title}\n  ${names.sort().join(' ')}`);
}

async function install(ctx: ToolContext, args: AptArgs, specs: string[]): Promise<number> {
  const say = printer(ctx, args);
  say('Reading package lists...\nBuilding dependency tree...\nReading state information...');
  if (specs.length === 0) {
    say('0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.');
    return 0;
  }
  const planned = planChanges(ctx, args, specs, say);
  if (typeof planned[0] === 'string') {
    for (const error of planned as string[]) ctx.err(`${error}\n`);
    return 100;
  }
  const changes = planned as Change[];
  const holds = readState(ctx).holds;
  const moving = changes.filter((c) => c.kind !== 'same');
  for (const c of changes.filter((c) => c.kind === 'same')) say(`${c.name} is already the newest version (${c.entry.version}).`);
  const heldChanged = moving.filter((c) => holds.includes(c.name)).map((c) => c.name);
  listSection(say, 'The following held packages will be changed:', heldChanged);
  listSection(
    say,
    'The following NEW packages will be installed:',
    moving.filter((c) => c.kind === 'new').map((c) => c.name),
  );
  listSection(
    say,
    'The following packages will be upgraded:',
    moving.filter((c) => c.kind === 'upgrade').map((c) => c.name),
  );
  const downgrades = moving.filter((c) => c.kind === 'downgrade').map((c) => c.name);
  listSection(say, 'The following packages will be DOWNGRADED:', downgrades);
  const count = (kind: ChangeKind) => moving.filter((c) => c.kind === kind).length;
  say(
    `${count('upgrade')} upgraded, ${count('new')} newly installed, ${downgrades.length > 0 ? `${downgrades.length} downgraded, ` : ''}0 to remove and 0 not upgraded.`,
  );
  if (moving.length === 0) return 0;
  if (heldChanged.length > 0 && !args.allowHeld && args.assumeYes) {
    ctx.err('E: Held packages were changed and -y was used without --allow-change-held-packages.\n');
    return 100;
  }
  if (downgrades.length > 0 && !args.allowDowngrades && args.assumeYes) {
    ctx.err('E: Packages were downgraded and -y was used without --allow-downgrades.\n');
    return 100;
  }
  if (!args.assumeYes) {
    ctx.out('Do you want to continue? [Y/n] ');
    const answer = (await ctx.readLine()).trim();
    if (answer !== '' && !/^y(es)?$/i.test(answer)) {
      say('Abort.');
      return 1;
    }
  }
  unpack(ctx, say, moving);
  return 0;
}

function unpack(ctx: ToolContext, say: (l: string) => void, moving: Change[]): void {
  const size = (c: Change) => 9_000_000 + c.name.length * 1_000_000;
  const total = moving.reduce((sum, c) => sum + size(c), 0);
  say(`Need to get ${aptSize(total)} of archives.\nAfter this operation, 0 B of additional disk space will be used.`);
  moving.forEach((c, i) => {
    say(`Get:${i + 1} ${c.entry.uri}  ${c.name} ${c.entry.version} [${aptSize(size(c))}]`);
  });
  say(`Fetched ${aptSize(total)} in 0s (${aptSize(total)}/s)`);
  say('(Reading database ... 12345 files and directories currently installed.)');
  for (const c of moving) {
    if (c.kind === 'downgrade') ctx.err(`dpkg: warning: downgrading ${c.name} from ${c.installed} to ${c.entry.version}\n`);
    say(`Preparing to unpack .../${c.name}_${c.entry.version}_amd64.deb ...`);
    say(
      c.installed ? `Unpacking ${c.name} (${c.entry.version}) over (${c.installed}) ...` : `Unpacking ${c.name} (${c.entry.version}) ...`,
    );
  }
  updateState(ctx, (state) => {
    for (const c of moving) if (isK8sPackage(c.name)) state.packages[c.name] = upstreamOf(c.entry.version);
  });
  for (const c of moving) say(`Setting up ${c.name} (${c.entry.version}) ...`);
}
