// kubeadm: version, upgrade plan / apply / node.
import { installedVersion, type ToolContext } from '../context.ts';
import { KubeadmError, STACK_HINT, parseFlags } from './output.ts';
import { plan } from './plan.ts';
import { apply, node } from './upgrade.ts';

function versionInfo(version: string): Record<string, string> {
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

function version(ctx: ToolContext, output: string | undefined): number {
  const info = versionInfo(installedVersion(ctx, 'kubeadm'));
  if (output === 'short') ctx.out(`${info.gitVersion}\n`);
  else if (output === 'json') ctx.out(`${JSON.stringify({ clientVersion: info }, null, 2)}\n`);
  else if (output === 'yaml') {
    ctx.out(
      'clientVersion:\n' +
        Object.keys(info)
          .sort()
          .map((k) => `  ${k}: ${/^\d+$/.test(info[k] ?? '') ? `"${info[k]}"` : info[k]}`)
          .join('\n') +
        '\n',
    );
  } else if (output === undefined || output === '') {
    const fields = ['Major', 'Minor', 'GitVersion', 'GitCommit', 'GitTreeState', 'BuildDate', 'GoVersion', 'Compiler', 'Platform'];
    ctx.out(`kubeadm version: &version.Info{${fields.map((f) => `${f}:"${info[f[0]!.toLowerCase() + f.slice(1)]}"`).join(', ')}}\n`);
  } else {
    ctx.err(`error: invalid output format: ${output}\n`);
    return 1;
  }
  return 0;
}

export async function kubeadm(ctx: ToolContext, argv: string[]): Promise<number> {
  try {
    const flags = parseFlags(argv);
    const [command, sub, ...rest] = flags.positional;
    if (command === 'version') return version(ctx, flags.values.get('--output'));
    if (command === 'upgrade') {
      const subFlags = { ...flags, positional: rest };
      if (sub === 'plan') return await plan(ctx, subFlags);
      if (sub === 'apply') return await apply(ctx, subFlags);
      if (sub === 'node') return await node(ctx, subFlags);
    }
    ctx.err(`the simulated kubeadm supports "version" and "upgrade plan|apply|node", not "${flags.positional.join(' ')}"\n`);
    return 1;
  } catch (err) {
    if (!(err instanceof KubeadmError)) throw err;
    ctx.err(`${err.message}\n${STACK_HINT}\n`);
    return 1;
  }
}
