// ConfigMaps as the Action uses kubeadm-config: create, read the ClusterConfiguration, patch it.
// Made in the test's own namespace (a real kube-system/kubeadm-config is never touched).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { closeScope, mergePatch, openScope, strategicMergePatch, type ContractScope } from './fixture.ts';
import { describeResponse, rawRequest } from './raw.ts';
import { apiFailure } from './wait.ts';

let scope: ContractScope;

beforeAll(async () => {
  scope = await openScope(0);
});
afterAll(async () => {
  await closeScope(scope);
});

function clusterConfiguration(kubernetesVersion: string): string {
  return YAML.stringify({
    apiServer: { certSANs: ['127.0.0.1'] },
    apiVersion: 'kubeadm.k8s.io/v1beta3',
    certificatesDir: '/etc/kubernetes/pki',
    clusterName: 'kubernetes',
    controlPlaneEndpoint: '127.0.0.1:6443',
    controllerManager: {},
    dns: {},
    etcd: { local: { dataDir: '/var/lib/etcd' } },
    imageRepository: 'registry.k8s.io',
    kind: 'ClusterConfiguration',
    kubernetesVersion,
    networking: { dnsDomain: 'cluster.local', serviceSubnet: '10.96.0.0/12', podSubnet: '10.244.0.0/16' },
    scheduler: {},
  });
}

async function createKubeadmConfig(name: string) {
  return scope.core.createNamespacedConfigMapWithHttpInfo({
    namespace: scope.namespace,
    body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { ClusterConfiguration: clusterConfiguration('v1.30.5') } },
  });
}

describe('ConfigMap (kubeadm-config shape)', () => {
  it('create is 201 and get returns the ClusterConfiguration exactly as written', async () => {
    const name = scope.unique('kubeadm-config');
    const created = await createKubeadmConfig(name);
    expect(created.httpStatusCode).toBe(201);
    const read = await scope.core.readNamespacedConfigMap({ name, namespace: scope.namespace });
    expect(read.data?.ClusterConfiguration).toBe(clusterConfiguration('v1.30.5'));
    expect(YAML.parse(read.data!.ClusterConfiguration!).kubernetesVersion).toBe('v1.30.5');
  });

  it('merge patch replaces the ClusterConfiguration, a null deletes a key, and resourceVersion moves', async () => {
    const name = scope.unique('kubeadm-config');
    const created = (await createKubeadmConfig(name)).data;
    const patched = await scope.core.patchNamespacedConfigMap(
      { name, namespace: scope.namespace, body: { data: { ClusterConfiguration: clusterConfiguration('v1.31.1'), extra: 'x' } } },
      mergePatch,
    );
    expect(patched.metadata?.resourceVersion).not.toBe(created.metadata?.resourceVersion);
    expect(patched.data?.ClusterConfiguration).toBe(clusterConfiguration('v1.31.1'));

    await scope.core.patchNamespacedConfigMap({ name, namespace: scope.namespace, body: { data: { extra: null } } }, mergePatch);
    const read = await scope.core.readNamespacedConfigMap({ name, namespace: scope.namespace });
    expect(Object.keys(read.data ?? {})).toEqual(['ClusterConfiguration']);
    expect(YAML.parse(read.data!.ClusterConfiguration!).kubernetesVersion).toBe('v1.31.1');
  });

  it('strategic merge patch and JSON patch (client-node default) also apply', async () => {
    const name = scope.unique('kubeadm-config');
    await createKubeadmConfig(name);
    await scope.core.patchNamespacedConfigMap({ name, namespace: scope.namespace, body: { data: { a: '1' } } }, strategicMergePatch);
    const jsonPatch = [{ op: 'replace', path: '/data/a', value: '2' }];
    const patched = await scope.core.patchNamespacedConfigMap({ name, namespace: scope.namespace, body: jsonPatch });
    expect(patched.data?.a).toBe('2');
  });

  it('create in a missing namespace is 404 naming the namespace', async () => {
    const missing = `${scope.run}-absent`;
    const response = await rawRequest(scope.kubeconfig, {
      method: 'POST',
      path: `/api/v1/namespaces/${missing}/configmaps`,
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kubeadm-config' }, data: { a: 'b' } },
    });
    expect(response.status, describeResponse(response)).toBe(404);
    expect(response.json).toMatchObject({
      kind: 'Status',
      reason: 'NotFound',
      code: 404,
      message: `namespaces "${missing}" not found`,
      details: { name: missing, kind: 'namespaces' },
    });
  });

  it('merge patch of a missing ConfigMap is 404', async () => {
    const failure = await apiFailure(
      scope.core.patchNamespacedConfigMap({ name: 'absent', namespace: scope.namespace, body: { data: { a: 'b' } } }, mergePatch),
    );
    expect(failure.code).toBe(404);
    expect(failure.status).toMatchObject({ reason: 'NotFound', message: 'configmaps "absent" not found' });
  });
});
