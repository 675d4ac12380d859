// kubectl 1.32 drains against the simulator as it does against a real server: PDB-aware evictions,
// DaemonSet pods ignored, replacements scheduled elsewhere.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploymentBody, eventually, nodeBody, startTestCluster, type TestCluster } from './helpers.ts';

const run = promisify(execFile);
let c: TestCluster;

function kubectl(...args: string[]): Promise<{ code: number; out: string }> {
  return run('kubectl', ['--kubeconfig', c.server.kubeconfigPath, ...args]).then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` }),
  );
}

beforeAll(async () => {
  c = await startTestCluster();
  for (const n of ['w1', 'w2', 'w3']) await c.kube.create('/api/v1/nodes', nodeBody(n));
  await c.kube.create('/api/v1/namespaces', { metadata: { name: 'demo' } });
  await c.kube.create('/apis/apps/v1/namespaces/demo/deployments', deploymentBody('web', 2));
  await c.kube.create('/apis/apps/v1/namespaces/demo/daemonsets', {
    metadata: { name: 'agent' },
    spec: {
      selector: { matchLabels: { app: 'agent' } },
      template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'a', image: 'agent:1' }] } },
    },
  });
  await c.kube.create('/apis/policy/v1/namespaces/demo/poddisruptionbudgets', {
    metadata: { name: 'web-pdb' },
    spec: { minAvailable: 2, selector: { matchLabels: { app: 'web' } } },
  });
  await eventually(
    async () => (await c.kube.get('/apis/policy/v1/namespaces/demo/poddisruptionbudgets/web-pdb')).status?.currentHealthy === 2,
    'web ready',
  );
});
afterAll(async () => {
  await c.close();
});

async function webNode(): Promise<string> {
  const pods = await c.kube.list('/api/v1/namespaces/demo/pods', { labelSelector: 'app=web' });
  return pods.items[0].spec.nodeName;
}

describe('kubectl drain', () => {
  it('retries on the budget and gives up at its timeout, leaving the node cordoned', async () => {
    const node = await webNode();
    const res = await kubectl('drain', node, '--ignore-daemonsets', '--timeout=3s');
    expect(res.code).toBe(1);
    expect(res.out).toContain(`node/${node} cordoned`);
    expect(res.out).toContain("Cannot evict pod as it would violate the pod's disruption budget.");
    expect((await c.kube.get(`/api/v1/nodes/${node}`)).spec.unschedulable).toBe(true);
    expect((await kubectl('uncordon', node)).code).toBe(0);
  });

  it('drains once the budget has room: the web pod moves, the DaemonSet pod stays', async () => {
    await c.kube.patch('/apis/policy/v1/namespaces/demo/poddisruptionbudgets/web-pdb', { spec: { minAvailable: 1 } });
    await eventually(
      async () => (await c.kube.get('/apis/policy/v1/namespaces/demo/poddisruptionbudgets/web-pdb')).status.disruptionsAllowed === 1,
      'room in the budget',
    );
    const node = await webNode();
    const res = await kubectl('drain', node, '--ignore-daemonsets', '--timeout=20s');
    expect(res.out).toContain(`node/${node} drained`);
    expect(res.code).toBe(0);
    const left = await c.kube.list('/api/v1/pods', { fieldSelector: `spec.nodeName=${node}` });
    expect(left.items.map((p: any) => p.metadata.labels.app)).toEqual(['agent']);
    await eventually(
      async () => (await c.kube.get('/apis/policy/v1/namespaces/demo/poddisruptionbudgets/web-pdb')).status.currentHealthy === 2,
      'web back to two ready',
    );
  });
});
