// yum and dnf (dnf 4 wording, as yum is on EL 8/9): install, downgrade, list, versionlock, makecache.
import { clusterSpec, readState, updateState, type NodeState, type ToolContext } from '../context.ts';
import { comparePackageVersions, globMatches, isK8sPackage, rpmVersion, upstreamOf } from './repo.ts';
import {
  activeRepos,
  lockedAway,
  lockedVersion,
  offers,
  parsePackageSpec,
  parseYumArgs,
  type RpmOffer,
  type YumArgs,
} from './yum-repos.ts';

const METADATA = 'Last metadata expiration check: 0:00:42 ago.';

export async function yum(ctx: ToolContext, argv: string[]): Promise<number> {
  const args = parseYumArgs(argv);
  const say = (line: string) => {
    if (!args.quiet) ctx.out(`${line}\n`);
  };
  for (const extra of args.repoFromPath) say(`Added ${extra.id} repo from ${extra.url}`);
  switch (args.command) {
    case 'install':
    case 'upgrade':
    case 'update':
      return install(ctx, args, say);
    case 'downgrade':
      return install(ctx, args, say, true);
    case 'list':
      return list(ctx, args, say);
    case 'versionlock':
      return versionlock(ctx, args);
    case 'makecache':
      for (const repo of activeRepos(ctx, args)) say(`${repo.id.padEnd(50)} 12 kB/s | 1.7 kB     00:00`);
      say('Metadata cache created.');
      return 0;
    case 'clean':
      say('0 files removed');
      return 0;
    default:
      ctx.err(`No such command: ${args.command ?? ''}. Please use /usr/bin/dnf --help\n`);
      return 1;
  }
}

function installedVersion(state: NodeState, name: string): string | undefined {
  return isK8sPackage(name) ? rpmVersion(state.packages[name]) : undefined;
}

interface Pick {
  spec: string;
  offer: RpmOffer;
  installed?: string;
}

function choose(ctx: ToolContext, args: YumArgs, specs: string[]): Pick[] | string[] {
  const state = readState(ctx);
  const all = offers(clusterSpec(ctx), activeRepos(ctx, args), args);
  const errors: string[] = [];
  const failed: string[] = [];
  const picks: Pick[] = [];
  for (const spec of specs) {
    const { name, pattern } = parsePackageSpec(spec);
    const matching = all.filter((o) => o.name === name && globMatches(pattern, o.version));
    const usable = matching
      .filter((o) => !o.excluded && !lockedAway(state, args, o))
      .sort((a, b) => comparePackageVersions(b.version, a.version));
    const best = usable[0];
    if (!best) {
      errors.push(
        matching.length > 0 ? `All matches were filtered out by exclude filtering for argument: ${spec}` : `No match for argument: ${spec}`,
      );
      failed.push(spec);
      continue;
    }
    picks.push({ spec, offer: best, installed: installedVersion(state, name) });
  }
  if (errors.length > 0) return [...errors, `Error: Unable to find a match: ${failed.join(' ')}`];
  return picks;
}

/**
 * install (any version it is given: an older one is a downgrade, as dnf does) or downgrade (only to a version below
 * the installed one; dnf skips the others with a warning and fails when nothing is left to downgrade).
 */
async function install(ctx: ToolContext, args: YumArgs, say: (l: string) => void, downgradeOnly = false): Promise<number> {
  say(METADATA);
  const chosen = choose(ctx, args, args.operands);
  if (typeof chosen[0] === 'string') {
    for (const line of chosen as string[]) ctx.err(`${line}\n`);
    return 1;
  }
  let picks = chosen as Pick[];
  if (downgradeOnly) {
    for (const p of picks.filter((p) => p.installed === undefined))
      ctx.err(`Packages for argument ${p.spec} available, but not installed.\n`);
    for (const p of picks.filter((p) => p.installed !== undefined && comparePackageVersions(p.offer.version, p.installed) >= 0)) {
      say(`Package ${p.offer.name} of lowest version already installed, cannot downgrade it.`);
    }
    picks = picks.filter((p) => p.installed !== undefined && comparePackageVersions(p.offer.version, p.installed) < 0);
    if (picks.length === 0) {
      ctx.err('Error: No packages marked for downgrade.\n');
      return 1;
    }
  }
  for (const p of picks.filter((p) => p.installed === p.offer.version))
    say(`Package ${p.offer.name}-${p.offer.version}.x86_64 is already installed.`);
  const moving = picks.filter((p) => p.installed !== p.offer.version);
  say('Dependencies resolved.');
  if (moving.length === 0) {
    say('Nothing to do.\nComplete!');
    return 0;
  }
  const rule = '='.repeat(80);
  say(`${rule}\n ${'Package'.padEnd(15)}${'Architecture'.padEnd(15)}${'Version'.padEnd(25)}${'Repository'.padEnd(18)}Size\n${rule}`);
  const groups: [string, (p: Pick) => boolean][] = [
    ['Installing:', (p) => p.installed === undefined],
    ['Upgrading:', (p) => p.installed !== undefined && comparePackageVersions(p.offer.version, p.installed) > 0],
    ['Downgrading:', (p) => p.installed !== undefined && comparePackageVersions(p.offer.version, p.installed) < 0],
  ];
  for (const [title, test] of groups) {
    const members = moving.filter(test);
    if (members.length === 0) continue;
    say(title);
    for (const p of members)
      say(` ${p.offer.name.padEnd(15)}${'x86_64'.padEnd(15)}${p.offer.version.padEnd(25)}${p.offer.repo.padEnd(18)}11 M`);
  }
  say(`\nTransaction Summary\n${rule}`);
  if (!args.assumeYes) {
    ctx.out('Is this ok [y/N]: ');
    if (!/^y(es)?$/i.test((await ctx.readLine()).trim())) {
      say('Operation aborted.');
      return 1;
    }
  }
  say(
    'Downloading Packages:\nRunning transaction check\nTransaction check succeeded.\nRunning transaction test\nTransaction test succeeded.\nRunning transaction',
  );
  updateState(ctx, (state) => {
    for (const p of moving) if (isK8sPackage(p.offer.name)) state.packages[p.offer.name] = upstreamOf(p.offer.version);
  });
  const verb = (p: Pick) =>
    p.installed === undefined ? 'Install' : comparePackageVersions(p.offer.version, p.installed) < 0 ? 'Downgrad' : 'Upgrad';
  moving.forEach((p, i) => {
    say(`  ${`${verb(p)}ing`.padEnd(17)}: ${p.offer.name}-${p.offer.version}.x86_64 ${i + 1}/${moving.length}`);
  });
  for (const title of ['Upgrad', 'Downgrad', 'Install']) {
    const members = moving.filter((p) => verb(p) === title);
    if (members.length > 0) say(`${title}ed:\n${members.map((p) => `  ${p.offer.name}-${p.offer.version}.x86_64`).join('\n')}\n`);
  }
  say('Complete!');
  return 0;
}

function row(name: string, version: string, repo: string): string {
  return `${`${name}.x86_64`.padEnd(40)}${version.padEnd(30)}${repo}`;
}

function list(ctx: ToolContext, args: YumArgs, say: (l: string) => void): number {
  const state = readState(ctx);
  const patterns = args.operands.length > 0 ? args.operands : ['*'];
  const wanted = (name: string) => patterns.some((p) => globMatches(p, name));
  say(METADATA);
  const installed = ['kubeadm', 'kubectl', 'kubelet']
    .filter(wanted)
    .map((name) => ({ name, version: installedVersion(state, name) ?? '' }));
  let available = offers(clusterSpec(ctx), activeRepos(ctx, args), args)
    .filter((o) => wanted(o.name) && !o.excluded && !lockedAway(state, args, o))
    .sort((a, b) => a.name.localeCompare(b.name) || comparePackageVersions(a.version, b.version));
  if (!args.showDuplicates) {
    available = available
      .filter((o) => !available.some((other) => other.name === o.name && comparePackageVersions(other.version, o.version) > 0))
      .filter((o) => comparePackageVersions(o.version, installedVersion(state, o.name) ?? '0.0.0-0') > 0);
  }
  if (installed.length === 0 && available.length === 0) {
    ctx.err('Error: No matching Packages to list\n');
    return 1;
  }
  if (installed.length > 0) say(`Installed Packages\n${installed.map((p) => row(p.name, p.version, '@kubernetes')).join('\n')}`);
  if (available.length > 0) say(`Available Packages\n${available.map((o) => row(o.name, o.version, o.repo)).join('\n')}`);
  return 0;
}

function versionlock(ctx: ToolContext, args: YumArgs): number {
  const [action = 'list', ...specs] = args.operands;
  const names = specs.map((s) => parsePackageSpec(s).name);
  const lockLine = (state: NodeState, name: string) => {
    const locked = lockedVersion(state, name);
    return `${name}-0:${locked ? rpmVersion(locked) : '*'}.*`;
  };
  if (action === 'list') {
    const state = readState(ctx);
    for (const name of [...state.holds].sort()) ctx.out(`${lockLine(state, name)}\n`);
    return 0;
  }
  if (!['add', 'delete', 'clear'].includes(action)) {
    ctx.err(`Error: Unknown versionlock command: ${action}\n`);
    return 1;
  }
  const lines: string[] = [];
  updateState(ctx, (state) => {
    state.versionlocks ??= {};
    const locks = state.versionlocks;
    if (action === 'clear') {
      state.holds = [];
      state.versionlocks = {};
    }
    for (const name of names) {
      if (action === 'add') {
        // like dnf: a package already locked keeps the version its lock names, whatever is installed now
        if (state.holds.includes(name)) {
          lines.push(`Package already locked in equivalent form: ${lockLine(state, name)}`);
          continue;
        }
        const installed = isK8sPackage(name) ? state.packages[name] : undefined;
        state.holds.push(name);
        if (installed) locks[name] = installed;
        lines.push(`Adding versionlock on: ${lockLine(state, name)}`);
      } else if (state.holds.includes(name)) {
        lines.push(`Deleting versionlock for: ${lockLine(state, name)}`);
        state.holds = state.holds.filter((n) => n !== name);
        delete locks[name];
      }
    }
  });
  if (action === 'delete' && lines.length === 0) {
    ctx.err(`Error: No package found for: ${specs.join(' ')}\n`);
    return 1;
  }
  for (const line of lines) ctx.out(`${line}\n`);
  return 0;
}
