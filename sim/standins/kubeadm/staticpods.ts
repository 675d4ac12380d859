// The control-plane phase: back up and rewrite static pod manifests one component at a time (etcd first),
// wait for each mirror pod's kubernetes.io/config.hash to change, roll everything back on failure.
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeClient } from '../../lib/kube-rest.ts';
import { etcdImage } from '../../cluster/versions.ts';
import { hostPath, type ToolContext } from '../context.ts';
import { mirrorPod } from './cluster.ts';
import { KubeadmError, backupStamp, goDuration } from './output.ts';
import { COMPONENTS, manifestPath, type Component } from './preflight.ts';

export interface ControlPlaneOptions {
  /** "1.31.2" */
  target: string;
  etcdUpgrade: boolean;
  certificateRenewal: boolean;
  dryRun: boolean;
  timeoutMs: number;
  localEtcd: boolean;
}

const CERTS: Record<Component, string[]> = {
  etcd: ['etcd-server', 'etcd-peer', 'etcd-healthcheck-client'],
  'kube-apiserver': ['apiserver', 'apiserver-kubelet-client', 'front-proxy-client', 'apiserver-etcd-client'],
  'kube-controller-manager': ['controller-manager.conf'],
  'kube-scheduler': ['scheduler.conf'],
};

const IMAGE_LINE = /^(\s*image:\s*["']?)([^\s"':]+(?::\d+)?\/[^\s"':]+):([^\s"']+)(["']?\s*)$/m;

function currentTag(manifest: string): string | undefined {
  return IMAGE_LINE.exec(manifest)?.[3];
}

function withTag(manifest: string, tag: string): string {
  return manifest.replace(IMAGE_LINE, (_, pre: string, repo: string, _old: string, post: string) => `${pre}${repo}:${tag}${post}`);
}

function etcdNumbers(tag: string): number[] {
  return tag.split(/[.-]/).map(Number);
}

function olderEtcd(a: string, b: string): boolean {
  const x = etcdNumbers(a);
  const y = etcdNumbers(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) < (y[i] ?? 0);
  return false;
}

function desiredTag(component: Component, target: string): string {
  return component === 'etcd' ? (etcdImage(target).split(':')[1] ?? '') : `v${target}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls the mirror pod until its config hash differs from `before` (API errors while components restart are retried). */
async function waitForHashChange(client: KubeClient, component: string, node: string, before: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const pod = await mirrorPod(client, component, node);
      if (pod && pod.hash !== before) return;
    } catch {
      // the API server may be restarting with its static pod
    }
    await sleep(Math.min(200, Math.max(10, deadline - Date.now())));
  }
  throw new KubeadmError(
    `static Pod hash for component ${component} on Node ${node} did not change after ${goDuration(timeoutMs)}: timed out waiting for the condition`,
  );
}

interface Swap {
  component: Component;
  backup: string;
}

function rollback(ctx: ToolContext, swaps: Swap[], etcdBackup: string | undefined, cause: string): KubeadmError {
  for (const swap of swaps) renameSync(swap.backup, hostPath(ctx, manifestPath(swap.component)));
  if (etcdBackup && swaps.some((s) => s.component === 'etcd')) {
    const data = hostPath(ctx, '/var/lib/etcd');
    rmSync(data, { recursive: true, force: true });
    cpSync(join(etcdBackup, 'etcd'), data, { recursive: true });
  }
  return new KubeadmError(
    `couldn't upgrade control plane. kubeadm has tried to recover everything into the earlier state. Errors faced: ${cause}`,
  );
}

/** Runs the static pod upgrade; throws KubeadmError (after rolling back) when a component does not come back. */
export async function upgradeStaticPods(
  ctx: ToolContext,
  client: KubeClient,
  say: (l: string) => void,
  opts: ControlPlaneOptions,
): Promise<void> {
  const stamp = backupStamp(new Date());
  const manifestsBackup = hostPath(ctx, `/etc/kubernetes/tmp/kubeadm-backup-manifests-${stamp}`);
  let etcdBackup: string | undefined;
  const swaps: Swap[] = [];
  if (!opts.dryRun) mkdirSync(manifestsBackup, { recursive: true });
  say(
    `[upgrade/staticpods] Writing new Static Pod manifests to "/etc/kubernetes/tmp/kubeadm-upgraded-manifests${stamp.replace(/-/g, '').slice(-9)}"`,
  );
  for (const component of COMPONENTS) {
    if (component === 'etcd' && (!opts.etcdUpgrade || !opts.localEtcd)) continue;
    const path = hostPath(ctx, manifestPath(component));
    const old = readFileSync(path, 'utf8');
    const running = currentTag(old) ?? '';
    const wanted = desiredTag(component, opts.target);
    if (component === 'etcd' && olderEtcd(wanted, running)) {
      say(
        `[upgrade/etcd] Non fatal issue encountered during upgrade: the desired etcd version "${wanted}" is older than the currently installed "${running}". Skipping etcd upgrade`,
      );
      continue;
    }
    const updated = withTag(old, wanted);
    if (updated === old) {
      say(`[upgrade/staticpods] Current and new manifests of ${component} are equal, skipping upgrade`);
      continue;
    }
    say(`[upgrade/staticpods] Preparing for "${component}" upgrade`);
    if (opts.dryRun) {
      say(`[dryrun] Would write file "${manifestPath(component)}" with image tag "${wanted}" (now "${running}")`);
      continue;
    }
    const before = await mirrorPod(client, component, ctx.nodeName);
    if (!before)
      throw rollback(
        ctx,
        swaps,
        etcdBackup,
        `failed to obtain static Pod hash for component ${component} on Node ${ctx.nodeName}: pods "${component}-${ctx.nodeName}" not found`,
      );
    if (component === 'etcd') {
      etcdBackup = hostPath(ctx, `/etc/kubernetes/tmp/kubeadm-backup-etcd-${stamp}`);
      mkdirSync(etcdBackup, { recursive: true });
      if (existsSync(hostPath(ctx, '/var/lib/etcd'))) cpSync(hostPath(ctx, '/var/lib/etcd'), join(etcdBackup, 'etcd'), { recursive: true });
    }
    if (opts.certificateRenewal) for (const cert of CERTS[component]) say(`[upgrade/staticpods] Renewing ${cert} certificate`);
    const backup = join(manifestsBackup, `${component}.yaml`);
    say(
      `[upgrade/staticpods] Moving new manifest to "${manifestPath(component)}" and backing up old manifest to "/etc/kubernetes/tmp/kubeadm-backup-manifests-${stamp}/${component}.yaml"`,
    );
    writeFileSync(backup, old);
    writeFileSync(`${path}.kubeadm-tmp`, updated);
    renameSync(`${path}.kubeadm-tmp`, path);
    swaps.push({ component, backup });
    say('[upgrade/staticpods] Waiting for the kubelet to restart the component');
    say(`[upgrade/staticpods] This can take up to ${goDuration(opts.timeoutMs)}`);
    try {
      await waitForHashChange(client, component, ctx.nodeName, before.hash, opts.timeoutMs);
    } catch (err) {
      const failure = rollback(ctx, swaps, etcdBackup, (err as Error).message);
      if (component === 'etcd') say(`[upgrade/etcd] Failed to upgrade etcd: ${failure.message}`);
      throw component === 'etcd'
        ? new KubeadmError(
            `fatal error when trying to upgrade the etcd cluster, rolled the state back to pre-upgrade state: ${failure.message}`,
          )
        : failure;
    }
    say(`[apiclient] Found 1 Pods for label selector component=${component}`);
    say(`[upgrade/staticpods] Component "${component}" upgraded successfully!`);
    if (component === 'etcd') say('[upgrade/etcd] Waiting for etcd to become available');
  }
}
