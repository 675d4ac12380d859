// rpm -q PKG [--qf FORMAT]: the installed kubeadm/kubelet/kubectl as rpm reports them.
import { readState, type ToolContext } from '../context.ts';
import { RPM_REVISION, isK8sPackage } from './repo.ts';

function render(format: string, name: string, version: string): string {
  const tags: Record<string, string> = { NAME: name, VERSION: version, RELEASE: RPM_REVISION, ARCH: 'x86_64', EPOCH: '(none)' };
  return format
    .replace(/%\{(\w+)\}/g, (_, tag: string) => tags[tag.toUpperCase()] ?? '(none)')
    .replace(/\\n/g, '\n')
    .replace(/\\t/g, '\t');
}

export async function rpm(ctx: ToolContext, argv: string[]): Promise<number> {
  let format = '%{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}\n';
  let query = false;
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '-q' || arg === '--query') query = true;
    else if (arg === '--qf' || arg === '--queryformat') format = argv[++i] ?? '';
    else if (arg.startsWith('--qf=') || arg.startsWith('--queryformat=')) format = arg.slice(arg.indexOf('=') + 1);
    else if (!arg.startsWith('-')) names.push(arg);
  }
  if (!query) {
    ctx.err('rpm: the simulated rpm supports only -q\n');
    return 1;
  }
  const state = readState(ctx);
  let missing = 0;
  for (const name of names) {
    if (!isK8sPackage(name)) {
      ctx.out(`package ${name} is not installed\n`);
      missing++;
      continue;
    }
    ctx.out(render(format, name, state.packages[name]));
  }
  return missing;
}
