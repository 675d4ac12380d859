// apt-mark, apt-cache (madison, policy), dpkg-query and dpkg -l: read-only views plus holds.
import { clusterSpec, readState, updateState, type ToolContext } from '../context.ts';
import { AptUsageError, parseAptArgs, readIndex, type AptArgs } from './apt-config.ts';
import { DESCRIPTIONS, HOLDABLE, debVersion, isK8sPackage } from './repo.ts';

function parseOrReport(ctx: ToolContext, argv: string[]): AptArgs | undefined {
  try {
    return parseAptArgs(argv);
  } catch (err) {
    if (!(err instanceof AptUsageError)) throw err;
    ctx.err(`${err.message}\n`);
    return undefined;
  }
}

export async function aptMark(ctx: ToolContext, argv: string[]): Promise<number> {
  const args = parseOrReport(ctx, argv);
  if (!args) return 100;
  const [command, ...names] = args.positional;
  if (command === 'showhold' || command === 'showholds') {
    const holds = readState(ctx).holds.filter((n) => names.length === 0 || names.includes(n));
    for (const name of [...holds].sort()) ctx.out(`${name}\n`);
    return 0;
  }
  if (command !== 'hold' && command !== 'unhold') {
    ctx.err(command ? `E: Invalid operation ${command}\n` : 'E: No operation specified\n');
    return 100;
  }
  if (names.length === 0) {
    ctx.err('E: No packages found\n');
    return 100;
  }
  const unknown = names.find((n) => !HOLDABLE.includes(n));
  if (unknown) {
    ctx.err(`E: Unable to locate package ${unknown}\n`);
    return 100;
  }
  const lines: string[] = [];
  updateState(ctx, (state) => {
    for (const name of names) {
      const held = state.holds.includes(name);
      if (command === 'hold') {
        lines.push(held ? `${name} was already set on hold.` : `${name} set on hold.`);
        if (!held) state.holds.push(name);
      } else {
        lines.push(held ? `Canceled hold on ${name}.` : `${name} was already not on hold.`);
        state.holds = state.holds.filter((n) => n !== name);
      }
    }
  });
  if (args.quiet < 2) for (const line of lines) ctx.out(`${line}\n`);
  return 0;
}

export async function aptCache(ctx: ToolContext, argv: string[]): Promise<number> {
  const args = parseOrReport(ctx, argv);
  if (!args) return 100;
  const [command, ...names] = args.positional;
  const index = readIndex(ctx, args, clusterSpec(ctx));
  if (command === 'madison') {
    for (const name of names) {
      const offered = index.filter((e) => e.name === name);
      if (offered.length === 0) ctx.err(`N: Unable to locate package ${name}\n`);
      for (const e of offered) ctx.out(`${name.padStart(10)} | ${e.version.padStart(10)} | ${e.uri}  Packages\n`);
    }
    return 0;
  }
  if (command === 'policy') {
    const state = readState(ctx);
    for (const name of names) {
      const offered = index.filter((e) => e.name === name);
      const installed = isK8sPackage(name) ? debVersion(state.packages[name]) : undefined;
      if (offered.length === 0 && !installed) {
        ctx.err(`N: Unable to locate package ${name}\n`);
        continue;
      }
      ctx.out(`${name}:\n  Installed: ${installed ?? '(none)'}\n  Candidate: ${offered[0]?.version ?? '(none)'}\n  Version table:\n`);
      const versions = [...new Set([...offered.map((e) => e.version), ...(installed ? [installed] : [])])];
      for (const version of versions) {
        ctx.out(`${version === installed ? ' *** ' : '     '}${version} 500\n`);
        const from = offered.find((e) => e.version === version);
        if (from) ctx.out(`        500 ${from.uri}  Packages\n`);
        if (version === installed) ctx.out('        100 /var/lib/dpkg/status\n');
      }
    }
    return 0;
  }
  ctx.err(command ? `E: Invalid operation ${command}\n` : 'E: No operation specified\n');
  return 100;
}

interface InstalledPackage {
  name: string;
  version: string;
  held: boolean;
}

function installed(ctx: ToolContext, name: string): InstalledPackage | undefined {
  if (!isK8sPackage(name)) return undefined;
  const state = readState(ctx);
  return { name, version: debVersion(state.packages[name]), held: state.holds.includes(name) };
}

/** Expands a dpkg-query --showformat template (${Package}, ${Version}, \n, \t, width specifiers ignored). */
function showFormat(template: string, pkg: InstalledPackage): string {
  const fields: Record<string, string> = {
    Package: pkg.name,
    binary: pkg.name,
    Version: pkg.version,
    Architecture: 'amd64',
    Status: `${pkg.held ? 'hold' : 'install'} ok installed`,
    'db:Status-Abbrev': `${pkg.held ? 'hi' : 'ii'} `,
    'db:Status-Want': pkg.held ? 'hold' : 'install',
    'db:Status-Status': 'installed',
    Description: isK8sPackage(pkg.name) ? DESCRIPTIONS[pkg.name] : '',
  };
  return template
    .replace(/\$\{([^}:;]+(?::[^};]+)?)(?:;-?\d+)?\}/g, (_, field: string) => fields[field] ?? '')
    .replace(/\\n/g, '\n')
    .replace(/\\t/g, '\t');
}

export async function dpkgQuery(ctx: ToolContext, argv: string[]): Promise<number> {
  let format = '${binary:Package}\t${Version}\n';
  let mode: 'show' | 'status' | 'list' | undefined;
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '-W' || arg === '--show') mode = 'show';
    else if (arg === '-s' || arg === '--status') mode = 'status';
    else if (arg === '-l' || arg === '--list') mode = 'list';
    else if (arg === '-f' || arg === '--showformat') format = argv[++i] ?? '';
    else if (arg.startsWith('-f')) format = arg.slice(2).replace(/^=/, '');
    else if (arg.startsWith('--showformat=')) format = arg.slice('--showformat='.length);
    else names.push(arg);
  }
  format = format.replace('${binary:Package}', '${Package}');
  if (mode === 'list') return dpkgList(ctx, names);
  if (!mode) {
    ctx.err('dpkg-query: error: need an action option\n\nType dpkg-query --help for help about querying packages.\n');
    return 2;
  }
  let missing = false;
  for (const name of names) {
    const pkg = installed(ctx, name);
    if (!pkg) {
      ctx.err(
        mode === 'status'
          ? `dpkg-query: package '${name}' is not installed and no information is available\n`
          : `dpkg-query: no packages found matching ${name}\n`,
      );
      missing = true;
      continue;
    }
    if (mode === 'show') ctx.out(showFormat(format, pkg));
    else
      ctx.out(
        showFormat('Package: ${Package}\nStatus: ${Status}\nArchitecture: amd64\nVersion: ${Version}\nDescription: ${Description}\n', pkg),
      );
  }
  return missing ? 1 : 0;
}

function dpkgList(ctx: ToolContext, names: string[]): number {
  const wanted = names.length > 0 ? names : ['kubeadm', 'kubectl', 'kubelet'];
  const rows = wanted.map((n) => installed(ctx, n)).filter((p): p is InstalledPackage => p !== undefined);
  if (rows.length === 0) {
    ctx.err(`dpkg-query: no packages found matching ${wanted.join(' ')}\n`);
    return 1;
  }
  ctx.out(
    'Desired=Unknown/Install/Remove/Purge/Hold\n| Status=Not/Inst/Conf-files/Unpacked/halF-conf/Half-inst/trig-aWait/Trig-pend\n' +
      '|/ Err?=(none)/Reinst-required (Status,Err: uppercase=bad)\n' +
      `||/ ${'Name'.padEnd(14)} ${'Version'.padEnd(14)} Architecture Description\n` +
      `+++-${'='.repeat(14)}-${'='.repeat(14)}-${'='.repeat(12)}-${'='.repeat(40)}\n`,
  );
  for (const p of rows) {
    ctx.out(
      `${p.held ? 'hi' : 'ii'}  ${p.name.padEnd(14)} ${p.version.padEnd(14)} amd64        ${isK8sPackage(p.name) ? DESCRIPTIONS[p.name] : ''}\n`,
    );
  }
  return 0;
}

export async function dpkg(ctx: ToolContext, argv: string[]): Promise<number> {
  if (argv[0] === '--print-architecture') {
    ctx.out('amd64\n');
    return 0;
  }
  if (argv[0] === '-l' || argv[0] === '--list') return dpkgList(ctx, argv.slice(1));
  if (argv[0] === '-s' || argv[0] === '--status') return dpkgQuery(ctx, argv);
  ctx.err(`dpkg: error: the simulated dpkg supports only -l, -s and --print-architecture\n`);
  return 2;
}
