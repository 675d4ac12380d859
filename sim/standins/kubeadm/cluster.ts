// What kubeadm reads from and writes to the API server, through the node's kubeconfig.
import YAML from 'yaml';
import { createKubeClient, loadKubeconfig, type KubeClient } from '../../lib/kube-rest.ts';
import { fileExists, hostPath, type ToolContext } from '../context.ts';
import { KubeadmError, parseSemver, type Semver } from './output.ts';

export const ADMIN_CONF = '/etc/kubernetes/admin.conf';
export const KUBELET_CONF = '/etc/kubernetes/kubelet.conf';
export const APISERVER_MANIFEST = '/etc/kubernetes/manifests/kube-apiserver.yaml';
export const CONTROL_PLANE_LABEL = 'node-role.kubernetes.io/control-plane';

export function isControlPlaneNode(ctx: ToolContext): boolean {
  return fileExists(ctx, APISERVER_MANIFEST);
}

export function openClient(ctx: ToolContext, kubeconfig: string): KubeClient {
  if (!fileExists(ctx, kubeconfig)) {
    throw new KubeadmError(
      `couldn't create a Kubernetes client from file "${kubeconfig}": failed to load admin kubeconfig: open ${kubeconfig}: no such file or directory`,
    );
  }
  return createKubeClient(loadKubeconfig(hostPath(ctx, kubeconfig)));
}

export interface NodeInfo {
  name: string;
  controlPlane: boolean;
  ready: boolean;
  kubeletVersion: string;
}

export async function listNodes(client: KubeClient): Promise<NodeInfo[]> {
  const list = await client.list('/api/v1/nodes');
  return (list.items ?? []).map((n: any) => ({
    name: String(n.metadata?.name),
    controlPlane: CONTROL_PLANE_LABEL in (n.metadata?.labels ?? {}),
    ready: (n.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True'),
    kubeletVersion: String(n.status?.nodeInfo?.kubeletVersion ?? ''),
  }));
}

export interface ClusterConfigMap {
  object: any;
  config: Record<string, any>;
  kubernetesVersion: Semver;
  localEtcd: boolean;
}

export async function readKubeadmConfig(client: KubeClient): Promise<ClusterConfigMap> {
  const object = await client.getOrNull('/api/v1/namespaces/kube-system/configmaps/kubeadm-config');
  if (!object) {
    throw new KubeadmError(
      'unable to fetch the kubeadm-config ConfigMap: failed to get config map: configmaps "kubeadm-config" not found\n' +
        "[upgrade/config] Use 'kubeadm init phase upload-config --config your-config.yaml' to re-upload it.",
    );
  }
  const config = (YAML.parse(String(object.data?.ClusterConfiguration ?? '')) ?? {}) as Record<string, any>;
  const version = parseSemver(String(config.kubernetesVersion ?? ''));
  if (!version) throw new KubeadmError(`the kubeadm-config ConfigMap has no valid kubernetesVersion: "${config.kubernetesVersion ?? ''}"`);
  return { object, config, kubernetesVersion: version, localEtcd: !config.etcd?.external };
}

export async function storeKubernetesVersion(client: KubeClient, cm: ClusterConfigMap, version: string): Promise<void> {
  const config = { ...cm.config, kubernetesVersion: version };
  const object = { ...cm.object, data: { ...cm.object.data, ClusterConfiguration: YAML.stringify(config) } };
  await client.replace('/api/v1/namespaces/kube-system/configmaps/kubeadm-config', object);
}

/** The API server's version: the "cluster version" kubeadm's skew policy compares against. */
export async function serverVersion(client: KubeClient): Promise<Semver> {
  const info = await client.get('/version');
  const version = parseSemver(String(info.gitVersion ?? ''));
  if (!version) throw new KubeadmError(`Unable to fetch cluster version: couldn't parse "${info.gitVersion}"`);
  return version;
}

export interface MirrorPod {
  image: string;
  tag: string;
  hash: string;
}

export async function mirrorPod(client: KubeClient, component: string, node: string): Promise<MirrorPod | null> {
  const pod = await client.getOrNull(`/api/v1/namespaces/kube-system/pods/${component}-${node}`);
  if (!pod) return null;
  const image = String(pod.spec?.containers?.[0]?.image ?? '');
  return {
    image,
    tag: image.slice(image.lastIndexOf(':') + 1),
    hash: String(pod.metadata?.annotations?.['kubernetes.io/config.hash'] ?? ''),
  };
}
