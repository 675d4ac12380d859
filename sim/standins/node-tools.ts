// kubelet --version, kubectl version --client (the installed packages' versions), swapon/swapoff/free, killall.
import { installedVersion, readState, updateState, type ToolContext } from './context.ts';

const KUSTOMIZE = 'v5.4.2';

export async function kubelet(ctx: ToolContext, argv: string[]): Promise<number> {
  if (argv.includes('--version') || argv.includes('--version=true')) {
    ctx.out(`Kubernetes v${installedVersion(ctx, 'kubelet')}\n`);
    return 0;
  }
  ctx.err('E: the simulated kubelet is run by the node supervisor; only --version is supported here\n');
  return 1;
}

function clientInfo(version: string): Record<string, string> {
  const [major = '1', minor = '0'] = version.split('.');
  return {
    major,
    minor,
    gitVersion: `v${version}`,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2024-01-01T00:00:00Z',
    goVersion: 'go1.22.8',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

function yamlOf(info: Record<string, string>): string {
  return Object.keys(info)
    .sort()
    .map((k) => `  ${k}: ${/^\d+$/.test(info[k] ?? '') ? `"${info[k]}"` : info[k]}`)
    .join('\n');
}

function outputFlag(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '-o' || arg === '--output') return argv[i + 1];
    if (arg.startsWith('--output=')) return arg.slice('--output='.length);
    if (arg.startsWith('-o') && arg.length > 2) return arg.slice(2).replace(/^=/, '');
  }
  return undefined;
}

export async function kubectl(ctx: ToolContext, argv: string[]): Promise<number> {
  const clientOnly = argv.some((a) => a === '--client' || a === '--client=true');
  if (argv[0] !== 'version' || !clientOnly) {
    ctx.err('error: the simulated kubectl on a node answers only `kubectl version --client`; reach the API from the runner\n');
    return 1;
  }
  const info = clientInfo(installedVersion(ctx, 'kubectl'));
  const output = outputFlag(argv);
  if (output === 'json') ctx.out(`${JSON.stringify({ clientVersion: info, kustomizeVersion: KUSTOMIZE }, null, 2)}\n`);
  else if (output === 'yaml') ctx.out(`clientVersion:\n${yamlOf(info)}\nkustomizeVersion: ${KUSTOMIZE}\n`);
  else if (output === undefined) ctx.out(`Client Version: ${info.gitVersion}\nKustomize Version: ${KUSTOMIZE}\n`);
  else {
    ctx.err(`error: --output must be 'yaml' or 'json'\n`);
    return 1;
  }
  return 0;
}

export async function swapon(ctx: ToolContext, argv: string[]): Promise<number> {
  if (!argv.includes('--show') && !argv.some((a) => a.startsWith('--show='))) {
    ctx.err('swapon: the simulated swapon supports only --show\n');
    return 1;
  }
  if (readState(ctx).swap) {
    if (!argv.includes('--noheadings')) ctx.out('NAME          TYPE      SIZE USED PRIO\n');
    ctx.out('/dev/sim-swap partition   2G   0B   -2\n');
  }
  return 0;
}

export async function swapoff(ctx: ToolContext, argv: string[]): Promise<number> {
  if (argv.includes('-a') || argv.includes('/dev/sim-swap'))
    updateState(ctx, (s) => {
      s.swap = false;
    });
  return 0;
}

export async function free(ctx: ToolContext): Promise<number> {
  const swap = readState(ctx).swap ? 2147483648 : 0;
  const cols = (values: number[]) => values.map((v) => String(v).padStart(12)).join('');
  ctx.out(`${' '.repeat(15)}total        used        free      shared  buff/cache   available\n`);
  ctx.out(`Mem:   ${cols([8589934592, 2147483648, 4294967296, 16777216, 2147483648, 6442450944])}\n`);
  ctx.out(`Swap:  ${cols([swap, 0, swap])}\n`);
  return 0;
}

/** `killall -s SIGTERM kube-apiserver`: recorded in commands.log by main.ts; the simulated apiserver is shared, so nothing stops. */
export async function killall(ctx: ToolContext, argv: string[]): Promise<number> {
  const names = argv.filter((a, i) => !a.startsWith('-') && argv[i - 1] !== '-s' && argv[i - 1] !== '--signal');
  if (names.length === 0) {
    ctx.err('Usage: killall [OPTION]... [--] NAME...\n');
    return 2;
  }
  return 0;
}
