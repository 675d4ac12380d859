// Shared steps of the kubeadm stand-in tests.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { executableText } from '../../../sim/pkgs/catalog.ts';
import type { SimFixture } from './fixture.ts';

/** As installing the packages leaves the node: each package's executable names its version. */
export function setPackages(fx: SimFixture, node: string, packages: Partial<Record<'kubeadm' | 'kubelet' | 'kubectl', string>>): void {
  for (const [name, version] of Object.entries(packages)) {
    mkdirSync(join(fx.root(node), 'usr/bin'), { recursive: true });
    writeFileSync(join(fx.root(node), 'usr/bin', name), executableText(name, version, name), { mode: 0o755 });
  }
}

/** Plays the kubelets of the given control planes while `work` runs: mirror pods follow the manifests. */
export async function withKubelets<T>(fx: SimFixture, nodes: string[], work: () => Promise<T>, frozen = new Set<string>()): Promise<T> {
  const timer = setInterval(() => {
    for (const n of nodes) fx.sync(n, frozen);
  }, 25);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

export function image(fx: SimFixture, node: string, component: string): string {
  return /image: (\S+)/.exec(fx.file(node, `etc/kubernetes/manifests/${component}.yaml`))?.[1] ?? '';
}

export function tmpEntries(fx: SimFixture, node: string): string[] {
  try {
    return readdirSync(join(fx.root(node), 'etc/kubernetes/tmp')).sort();
  } catch {
    return [];
  }
}

export function apiObject(fx: SimFixture, path: string): any {
  return fx.api?.objects.get(path);
}
