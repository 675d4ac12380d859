// Tool name → handler. Each family is imported only when used, so a stand-in starts fast.
import { clusterSpec, type ToolContext } from './context.ts';

export type ToolHandler = (ctx: ToolContext, args: string[]) => Promise<number>;

const families: Record<string, () => Promise<ToolHandler>> = {
  'apt-get': async () => (await import('./pkg/apt-get.ts')).aptGet,
  apt: async () => (await import('./pkg/apt-get.ts')).aptGet,
  'apt-mark': async () => (await import('./pkg/apt-query.ts')).aptMark,
  'apt-cache': async () => (await import('./pkg/apt-query.ts')).aptCache,
  'dpkg-query': async () => (await import('./pkg/apt-query.ts')).dpkgQuery,
  dpkg: async () => (await import('./pkg/apt-query.ts')).dpkg,
  yum: async () => (await import('./pkg/yum.ts')).yum,
  dnf: async () => (await import('./pkg/yum.ts')).yum,
  rpm: async () => (await import('./pkg/rpm.ts')).rpm,
  kubeadm: async () => (await import('./kubeadm/main.ts')).kubeadm,
  kubelet: async () => (await import('./node-tools.ts')).kubelet,
  kubectl: async () => (await import('./node-tools.ts')).kubectl,
  systemctl: async () => (await import('./systemctl.ts')).systemctl,
  swapon: async () => (await import('./node-tools.ts')).swapon,
  swapoff: async () => (await import('./node-tools.ts')).swapoff,
  free: async () => (await import('./node-tools.ts')).free,
  killall: async () => (await import('./node-tools.ts')).killall,
  crictl: async () => (await import('./crictl.ts')).crictl,
};

const DEBIAN_ONLY = ['apt-get', 'apt', 'apt-mark', 'apt-cache', 'dpkg-query', 'dpkg'];
const RHEL_ONLY = ['yum', 'dnf', 'rpm'];

export const TOOL_NAMES = Object.keys(families);

/** The stand-ins a node of this OS has (shims for the others should not exist; if called they act absent). */
export function toolsForOs(os: 'debian' | 'rhel'): string[] {
  const foreign = os === 'debian' ? RHEL_ONLY : DEBIAN_ONLY;
  return TOOL_NAMES.filter((tool) => !foreign.includes(tool));
}

function nodeOs(ctx: ToolContext): 'debian' | 'rhel' | undefined {
  try {
    return clusterSpec(ctx).nodes.find((n) => n.name === ctx.nodeName)?.os;
  } catch {
    return undefined;
  }
}

export async function runTool(ctx: ToolContext, tool: string, args: string[]): Promise<number> {
  const load = families[tool];
  const os = nodeOs(ctx);
  if (!load || (os && !toolsForOs(os).includes(tool))) {
    ctx.err(`sh: 1: ${tool}: not found\n`);
    return 127;
  }
  return (await load())(ctx, args);
}
