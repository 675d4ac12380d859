// Tool name → handler. Each family is imported only when used, so a stand-in starts fast.
import type { ToolContext } from './context.ts';

export type ToolHandler = (ctx: ToolContext, args: string[]) => Promise<number>;

const families: Record<string, () => Promise<ToolHandler>> = {
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

export const TOOL_NAMES = Object.keys(families);

export async function runTool(ctx: ToolContext, tool: string, args: string[]): Promise<number> {
  const load = families[tool];
  if (!load) {
    ctx.err(`sh: 1: ${tool}: not found\n`);
    return 127;
  }
  return (await load())(ctx, args);
}
