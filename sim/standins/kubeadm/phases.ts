// The phases after the control plane: kubelet-config (download, back up, write) and addons (CoreDNS,
// kube-proxy) which run only when no other control-plane instance is left on an older kube-apiserver.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeClient } from '../../lib/kube-rest.ts';
import { corednsImage } from '../../cluster/versions.ts';
import { hostPath, type ToolContext } from '../context.ts';
import { listNodes, mirrorPod } from './cluster.ts';
import { KubeadmError, compareSemver, parseSemver } from './output.ts';

const KUBELET_CONFIG = '/var/lib/kubelet/config.yaml';
const KUBELET_CM = '/api/v1/namespaces/kube-system/configmaps/kubelet-config';

/** upload-config/kubelet (apply only): makes sure the kubelet-config ConfigMap exists. */
export async function uploadKubeletConfig(ctx: ToolContext, client: KubeClient, say: (l: string) => void): Promise<void> {
  say('[kubelet] Creating a ConfigMap "kubelet-config" in namespace kube-system with the configuration for the kubelets in the cluster');
  if (await client.getOrNull(KUBELET_CM)) return;
  const local = existsSync(hostPath(ctx, KUBELET_CONFIG)) ? readFileSync(hostPath(ctx, KUBELET_CONFIG), 'utf8') : '';
  await client.create('/api/v1/namespaces/kube-system/configmaps', {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'kubelet-config', namespace: 'kube-system' },
    data: { kubelet: local },
  });
}

function randomDigits(): string {
  return String(Math.floor(100_000_000 + Math.random() * 899_999_999));
}

/** kubelet-config phase: the cluster's kubelet configuration becomes /var/lib/kubelet/config.yaml (old one backed up). */
export async function writeKubeletConfig(ctx: ToolContext, client: KubeClient, say: (l: string) => void, dryRun: boolean): Promise<void> {
  const cm = await client.getOrNull(KUBELET_CM);
  if (!cm) throw new KubeadmError('failed to download kubelet configuration from the cluster: configmaps "kubelet-config" not found');
  const content = String(cm.data?.kubelet ?? '');
  if (dryRun) {
    say(`[dryrun] Would write file "${KUBELET_CONFIG}" from the "kubelet-config" ConfigMap`);
    return;
  }
  const backupDir = `/etc/kubernetes/tmp/kubeadm-kubelet-config${randomDigits()}`;
  say(
    `W0101 00:00:00.000000       1 postupgrade.go:117] Using temporary directory ${backupDir} for kubelet config. To override it set the environment variable KUBEADM_UPGRADE_DRYRUN_DIR`,
  );
  if (existsSync(hostPath(ctx, KUBELET_CONFIG))) {
    mkdirSync(hostPath(ctx, backupDir), { recursive: true });
    say(`[upgrade] Backing up kubelet config file to ${backupDir}/config.yaml`);
    writeFileSync(join(hostPath(ctx, backupDir), 'config.yaml'), readFileSync(hostPath(ctx, KUBELET_CONFIG)));
  }
  say(`[kubelet-start] Writing kubelet configuration to file "${KUBELET_CONFIG}"`);
  mkdirSync(hostPath(ctx, '/var/lib/kubelet'), { recursive: true });
  writeFileSync(hostPath(ctx, KUBELET_CONFIG), content);
  say('[upgrade/kubelet-config] The kubelet configuration for this node was successfully upgraded!');
}

/** Control-plane nodes (other than this one) whose kube-apiserver mirror pod is older than the target. */
async function unupgradedControlPlanes(ctx: ToolContext, client: KubeClient, target: string): Promise<string[]> {
  const wanted = parseSemver(target);
  const behind: string[] = [];
  for (const node of (await listNodes(client)).filter((n) => n.controlPlane && n.name !== ctx.nodeName)) {
    const pod = await mirrorPod(client, 'kube-apiserver', node.name);
    const running = pod ? parseSemver(pod.tag) : undefined;
    if (!running || !wanted || compareSemver(running, wanted) < 0) behind.push(node.name);
  }
  return behind.sort();
}

async function setImage(client: KubeClient, path: string, image: string, fresh: () => object): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const object = await client.getOrNull(path);
    if (!object) {
      await client.create(path.slice(0, path.lastIndexOf('/')), fresh());
      return;
    }
    const container = object.spec?.template?.spec?.containers?.[0];
    if (container) container.image = image;
    const res = await client.request('PUT', path, object);
    if (res.status < 300) return;
    if (res.status !== 409) throw new KubeadmError(`unable to update ${path}: ${res.status} ${res.body?.message ?? ''}`);
  }
  throw new KubeadmError(`unable to update ${path}: repeated conflicts`);
}

function workload(kind: 'Deployment' | 'DaemonSet', name: string, label: string, image: string): object {
  return {
    apiVersion: 'apps/v1',
    kind,
    metadata: { name, namespace: 'kube-system', labels: { 'k8s-app': label } },
    spec: {
      selector: { matchLabels: { 'k8s-app': label } },
      template: { metadata: { labels: { 'k8s-app': label } }, spec: { containers: [{ name, image }] } },
      ...(kind === 'Deployment' ? { replicas: 2 } : {}),
    },
  };
}

/** addon phase: CoreDNS and kube-proxy follow the target once every control-plane instance runs it. */
export async function upgradeAddons(
  ctx: ToolContext,
  client: KubeClient,
  say: (l: string) => void,
  target: string,
  dryRun: boolean,
): Promise<void> {
  const behind = await unupgradedControlPlanes(ctx, client, target);
  if (behind.length > 0) {
    const line = `[upgrade/addon] Skipping upgrade of addons because control plane instances [${behind.join(' ')}] have not been upgraded`;
    say(line);
    say(line);
    return;
  }
  const coredns = corednsImage(target);
  const proxy = `registry.k8s.io/kube-proxy:v${target}`;
  if (dryRun) {
    say(`[dryrun] Would update the CoreDNS Deployment to ${coredns} and the kube-proxy DaemonSet to ${proxy}`);
    return;
  }
  await setImage(client, '/apis/apps/v1/namespaces/kube-system/deployments/coredns', coredns, () =>
    workload('Deployment', 'coredns', 'kube-dns', coredns),
  );
  say('[addons] Applied essential addon: CoreDNS');
  await setImage(client, '/apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy', proxy, () =>
    workload('DaemonSet', 'kube-proxy', 'kube-proxy', proxy),
  );
  say('[addons] Applied essential addon: kube-proxy');
}
