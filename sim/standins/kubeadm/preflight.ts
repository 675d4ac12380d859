// kubeadm's cluster health checks before an upgrade (health.go): ControlPlaneNodesReady, StaticPodManifest.
import { fileExists, type ToolContext } from '../context.ts';
import type { NodeInfo } from './cluster.ts';
import type { Flags } from './output.ts';

export const COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;
export type Component = (typeof COMPONENTS)[number];

export function manifestPath(component: string): string {
  return `/etc/kubernetes/manifests/${component}.yaml`;
}

function ignored(flags: Flags): Set<string> {
  const list = (flags.values.get('--ignore-preflight-errors') ?? '').split(',').map((s) => s.trim().toLowerCase());
  return new Set(list.filter(Boolean));
}

/**
 * Runs the checks; returns kubeadm's "[preflight] Some fatal errors occurred" text when one fails and is
 * not ignored (--ignore-preflight-errors=Name,… or all), printing ignored ones as warnings.
 */
export function clusterHealth(ctx: ToolContext, flags: Flags, nodes: NodeInfo[], say: (l: string) => void): string | undefined {
  const found: [string, string][] = [];
  const notReady = nodes.filter((n) => n.controlPlane && !n.ready).map((n) => n.name);
  if (notReady.length > 0)
    found.push(['ControlPlaneNodesReady', `there are NotReady control-planes in the cluster: [${notReady.join(' ')}]`]);
  const missing = COMPONENTS.map(manifestPath).filter((p) => !fileExists(ctx, p));
  if (missing.length > 0) {
    found.push([
      'StaticPodManifest',
      "The control plane seems to be Static Pod-hosted, but some of the manifests don't seem to exist on disk. " +
        "This probably means you're running 'kubeadm upgrade' on a remote machine, which is not supported for a Static Pod-hosted cluster. " +
        `Manifest files not found: [${missing.join(' ')}]`,
    ]);
  }
  const skip = ignored(flags);
  const fatal = found.filter(([name]) => !skip.has('all') && !skip.has(name.toLowerCase()));
  for (const [name, message] of found.filter((f) => !fatal.includes(f))) say(`\t[WARNING ${name}]: ${message}`);
  if (fatal.length === 0) return undefined;
  return (
    `[preflight] Some fatal errors occurred:\n${fatal.map(([n, m]) => `\t[ERROR ${n}]: ${m}`).join('\n')}\n` +
    '[preflight] If you know what you are doing, you can make a check non-fatal with `--ignore-preflight-errors=...`'
  );
}
