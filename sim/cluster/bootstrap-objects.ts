// What `kubeadm init` leaves in the API (kubeadm-config, kubelet-config, CoreDNS, kube-proxy) and the
// optional demo workload. Created through the plain REST API, so a real API server would take them too.
import type { ClusterSpec } from '../node/spec.ts';
import type { KubeClient } from '../lib/kube-rest.ts';
import { clusterConfigurationYaml, kubeletConfigurationYaml } from './configs.ts';
import { corednsImage } from './versions.ts';

interface ApiObject {
  path: string;
  body: Record<string, unknown>;
}

const CONTROL_PLANE_TOLERATION = { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' };

function configMap(namespace: string, name: string, data: Record<string, string>): ApiObject {
  return {
    path: `/api/v1/namespaces/${namespace}/configmaps`,
    body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data },
  };
}

function container(name: string, image: string, cpu: string, memory: string) {
  return { name, image, imagePullPolicy: 'IfNotPresent', resources: { requests: { cpu, memory } } };
}

function deployment(
  namespace: string,
  name: string,
  replicas: number,
  labels: Record<string, string>,
  pod: Record<string, unknown>,
): ApiObject {
  return {
    path: `/apis/apps/v1/namespaces/${namespace}/deployments`,
    body: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace, labels },
      spec: { replicas, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: pod } },
    },
  };
}

function daemonSet(namespace: string, name: string, labels: Record<string, string>, pod: Record<string, unknown>): ApiObject {
  return {
    path: `/apis/apps/v1/namespaces/${namespace}/daemonsets`,
    body: {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name, namespace, labels },
      spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec: pod } },
    },
  };
}

export function kubeadmObjects(spec: ClusterSpec): ApiObject[] {
  const dnsLabels = { 'k8s-app': 'kube-dns' };
  const proxyLabels = { 'k8s-app': 'kube-proxy' };
  return [
    configMap('kube-system', 'kubeadm-config', { ClusterConfiguration: clusterConfigurationYaml(spec) }),
    configMap('kube-system', 'kubelet-config', { kubelet: kubeletConfigurationYaml() }),
    configMap('kube-system', 'kube-proxy', {
      'config.conf': 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ""\nclusterCIDR: 10.244.0.0/16\n',
    }),
    deployment('kube-system', 'coredns', 2, dnsLabels, {
      containers: [container('coredns', corednsImage(spec.version), '100m', '70Mi')],
      priorityClassName: 'system-cluster-critical',
      tolerations: [{ key: 'CriticalAddonsOnly', operator: 'Exists' }, CONTROL_PLANE_TOLERATION],
    }),
    {
      path: '/api/v1/namespaces/kube-system/services',
      body: {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'kube-dns', namespace: 'kube-system', labels: dnsLabels },
        spec: {
          clusterIP: '10.96.0.10',
          selector: dnsLabels,
          ports: [
            { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
            { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
          ],
        },
      },
    },
    daemonSet('kube-system', 'kube-proxy', proxyLabels, {
      containers: [container('kube-proxy', `registry.k8s.io/kube-proxy:v${spec.version}`, '10m', '20Mi')],
      hostNetwork: true,
      priorityClassName: 'system-node-critical',
      tolerations: [{ operator: 'Exists' }],
    }),
  ];
}

/** --workload demo: what a drain has to respect (a PDB, a DaemonSet, a pod with local data). */
export function demoObjects(): ApiObject[] {
  const web = { app: 'web' };
  return [
    { path: '/api/v1/namespaces', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } } },
    deployment('demo', 'web', 4, web, { containers: [container('web', 'registry.k8s.io/e2e-test-images/agnhost:2.52', '50m', '32Mi')] }),
    {
      path: '/apis/policy/v1/namespaces/demo/poddisruptionbudgets',
      body: {
        apiVersion: 'policy/v1',
        kind: 'PodDisruptionBudget',
        metadata: { name: 'web-pdb', namespace: 'demo' },
        spec: { minAvailable: 3, selector: { matchLabels: web } },
      },
    },
    daemonSet('demo', 'agent', { app: 'agent' }, { containers: [container('agent', 'registry.k8s.io/pause:3.9', '5m', '8Mi')] }),
    deployment(
      'demo',
      'cache',
      1,
      { app: 'cache' },
      {
        containers: [
          { ...container('cache', 'registry.k8s.io/pause:3.9', '10m', '16Mi'), volumeMounts: [{ name: 'scratch', mountPath: '/cache' }] },
        ],
        volumes: [{ name: 'scratch', emptyDir: {} }],
      },
    ),
  ];
}

/** Creates the objects in order; one that already exists (409) is left as it is. */
export async function createObjects(kube: KubeClient, objects: ApiObject[]): Promise<void> {
  for (const object of objects) {
    const res = await kube.request('POST', object.path, object.body);
    if (res.status >= 300 && res.status !== 409) {
      const metadata = object.body.metadata as { name?: string } | undefined;
      const message = typeof res.body === 'object' && res.body ? (res.body as { message?: string }).message : String(res.body);
      throw new Error(
        `creating ${object.body.kind} ${metadata?.name ?? ''} (POST ${object.path}) failed: HTTP ${res.status} ${message ?? ''}`,
      );
    }
  }
}

export async function createBootstrapObjects(kube: KubeClient, spec: ClusterSpec): Promise<void> {
  await createObjects(kube, kubeadmObjects(spec));
  if (spec.workload === 'demo') await createObjects(kube, demoObjects());
}
