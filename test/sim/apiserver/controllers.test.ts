// The controllers as a client notices them: taints after cordon and NotReady, scheduling, the
// kubelet role, Deployments / ReplicaSets / DaemonSets / Jobs, PDB status and the budget record.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploymentBody, eventually, nodeBody, startTestCluster, type TestCluster } from './helpers.ts';

let c: TestCluster;
const apps = '/apis/apps/v1/namespaces/ctl';
const pods = '/api/v1/namespaces/ctl/pods';

const isReady = (p: any) => p.status?.conditions?.some((x: any) => x.type === 'Ready' && x.status === 'True');
const taintKeys = (n: any) => (n.spec.taints ?? []).map((t: any) => `${t.key}:${t.effect}`).sort();

async function podsOf(app: string): Promise<any[]> {
  return (await c.kube.list(pods, { labelSelector: `app=${app}` })).items;
}

beforeAll(async () => {
  c = await startTestCluster();
  await c.kube.create('/api/v1/nodes', nodeBody('n1'));
  await c.kube.create('/api/v1/nodes', nodeBody('n2'));
  await c.kube.create(
    '/api/v1/nodes',
    nodeBody('cp', true, {
      labels: { 'node-role.kubernetes.io/control-plane': '' },
      taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }],
    }),
  );
  await c.kube.create('/api/v1/namespaces', { metadata: { name: 'ctl' } });
});
afterAll(async () => {
  await c.close();
});

describe('node lifecycle', () => {
  it('adds the unschedulable taint after the cordon response and removes it on uncordon', async () => {
    const response = await c.kube.patch('/api/v1/nodes/n2', { spec: { unschedulable: true } }, 'strategic');
    expect(response.spec.taints).toBeUndefined();
    await eventually(
      async () => taintKeys(await c.kube.get('/api/v1/nodes/n2')).includes('node.kubernetes.io/unschedulable:NoSchedule'),
      'unschedulable taint',
    );
    await c.kube.patch('/api/v1/nodes/n2', { spec: { unschedulable: null } }, 'strategic');
    await eventually(async () => taintKeys(await c.kube.get('/api/v1/nodes/n2')).length === 0, 'taint removed');
  });

  it('adds not-ready taints for Ready=False and marks its pods not Ready until it is back', async () => {
    await c.kube.create(pods, {
      metadata: { name: 'on-n2', labels: { app: 'on-n2' } },
      spec: { nodeName: 'n2', containers: [{ name: 'a', image: 'a:1' }] },
    });
    await eventually(async () => isReady(await c.kube.get(`${pods}/on-n2`)), 'pod ready');
    await c.kube.patch(
      '/api/v1/nodes/n2/status',
      { status: { conditions: [{ type: 'Ready', status: 'False', reason: 'KubeletNotReady' }] } },
      'strategic',
    );
    await eventually(
      async () =>
        taintKeys(await c.kube.get('/api/v1/nodes/n2')).join() ===
        'node.kubernetes.io/not-ready:NoExecute,node.kubernetes.io/not-ready:NoSchedule',
      'not-ready taints',
    );
    await eventually(async () => !isReady(await c.kube.get(`${pods}/on-n2`)), 'pod marked not ready');
    await c.kube.patch(
      '/api/v1/nodes/n2/status',
      { status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }] } },
      'strategic',
    );
    await eventually(async () => taintKeys(await c.kube.get('/api/v1/nodes/n2')).length === 0, 'taints removed');
    await eventually(async () => isReady(await c.kube.get(`${pods}/on-n2`)), 'pod ready again');
  });
});

describe('scheduling and the kubelet role', () => {
  it('binds to schedulable untainted nodes only, then runs the pod; a pod that fits nowhere stays Pending', async () => {
    await c.kube.patch('/api/v1/nodes/n2', { spec: { unschedulable: true } }, 'strategic');
    await c.kube.create(`${apps}/deployments`, deploymentBody('sched', 3));
    const running = await eventually(async () => {
      const list = await podsOf('sched');
      return list.length === 3 && list.every((p) => p.status.phase === 'Running' && isReady(p)) ? list : undefined;
    }, 'three running pods');
    expect(new Set(running.map((p) => p.spec.nodeName))).toEqual(new Set(['n1']));
    expect(running[0].status.podIP).toMatch(/^10\./);
    await c.kube.create(pods, {
      metadata: { name: 'huge', labels: { app: 'huge' } },
      spec: { containers: [{ name: 'a', image: 'a:1', resources: { requests: { cpu: '64' } } }] },
    });
    const huge = await eventually(async () => {
      const p = await c.kube.get(`${pods}/huge`);
      return p.status.conditions?.find((x: any) => x.type === 'PodScheduled' && x.status === 'False') ? p : undefined;
    }, 'unschedulable condition');
    expect(huge.spec.nodeName).toBeUndefined();
    expect(huge.status.conditions.find((x: any) => x.type === 'PodScheduled').message).toMatch(/^0\/3 nodes are available: /);
    await c.kube.del(`${pods}/huge`);
    await c.kube.patch('/api/v1/nodes/n2', { spec: { unschedulable: null } }, 'strategic');
  });

  it('removes a deleted bound pod after its grace period and the ReplicaSet replaces it', async () => {
    const [victim] = await podsOf('sched');
    const marked = await c.kube.del(`${pods}/${victim.metadata.name}`);
    expect(marked.metadata.deletionGracePeriodSeconds).toBe(1);
    expect((await c.kube.get(`${pods}/${victim.metadata.name}`)).metadata.deletionTimestamp).toBeTruthy();
    await eventually(
      async () => (await c.kube.request('GET', `${pods}/${victim.metadata.name}`)).status === 404,
      'pod gone after grace',
      5000,
    );
    await eventually(async () => (await podsOf('sched')).filter(isReady).length === 3, 'replacement ready');
  });
});

describe('workloads', () => {
  it('rolls a Deployment to a new image through a new ReplicaSet and reports its status', async () => {
    await c.kube.patch(
      `${apps}/deployments/sched`,
      { spec: { template: { spec: { containers: [{ name: 'main', image: 'nginx:1.27' }] } } } },
      'strategic',
    );
    const d = await eventually(
      async () => {
        const dep = await c.kube.get(`${apps}/deployments/sched`);
        const list = await podsOf('sched');
        const done = list.length === 3 && list.every((p) => p.spec.containers[0].image === 'nginx:1.27' && isReady(p));
        return done &&
          dep.status.updatedReplicas === 3 &&
          dep.status.availableReplicas === 3 &&
          dep.status.observedGeneration === dep.metadata.generation
          ? dep
          : undefined;
      },
      'rollout to nginx:1.27',
      15_000,
    );
    expect(d.status).toMatchObject({ replicas: 3, readyReplicas: 3 });
    const sets = (await c.kube.list(`${apps}/replicasets`, { labelSelector: 'app=sched' })).items;
    expect(sets).toHaveLength(2);
    const current = sets.find((rs: any) => rs.spec.replicas === 3);
    expect(current.metadata.name).toBe(`sched-${current.metadata.labels['pod-template-hash']}`);
    expect(sets.find((rs: any) => rs !== current).spec.replicas).toBe(0);
  });

  it('runs one DaemonSet pod per node it tolerates and rolls it on an image change', async () => {
    const template = (image: string) => ({
      metadata: { labels: { app: 'agent' } },
      spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'agent', image }] },
    });
    await c.kube.create(`${apps}/daemonsets`, {
      metadata: { name: 'agent' },
      spec: { selector: { matchLabels: { app: 'agent' } }, template: template('agent:1') },
    });
    await eventually(async () => (await podsOf('agent')).filter(isReady).length === 2, 'two agents (not on the tainted control plane)');
    expect((await podsOf('agent')).map((p) => p.spec.nodeName).sort()).toEqual(['n1', 'n2']);
    await c.kube.patch(
      `${apps}/daemonsets/agent`,
      { spec: { template: { spec: { tolerations: [{ operator: 'Exists' }], containers: [{ name: 'agent', image: 'agent:2' }] } } } },
      'strategic',
    );
    const ds = await eventually(
      async () => {
        const list = (await podsOf('agent')).filter((p) => !p.metadata.deletionTimestamp);
        const d = await c.kube.get(`${apps}/daemonsets/agent`);
        const done = list.length === 3 && list.every((p) => p.spec.containers[0].image === 'agent:2' && isReady(p));
        return done && d.status.updatedNumberScheduled === 3 && d.status.numberReady === 3 ? d : undefined;
      },
      'agents rolled to agent:2 on all three nodes',
      15_000,
    );
    expect(ds.status).toMatchObject({ desiredNumberScheduled: 3, currentNumberScheduled: 3, numberAvailable: 3 });
  });

  it('completes a Job through one pod', async () => {
    await c.kube.create('/apis/batch/v1/namespaces/ctl/jobs', {
      metadata: { name: 'check' },
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'pause:3.9' }] } } },
    });
    const job = await eventually(async () => {
      const j = await c.kube.get('/apis/batch/v1/namespaces/ctl/jobs/check');
      return j.status?.succeeded === 1 ? j : undefined;
    }, 'job succeeded');
    expect(job.status.conditions.map((x: any) => x.type)).toContain('Complete');
    const jobPods = (await c.kube.list(pods, { labelSelector: 'job-name=check' })).items;
    expect(jobPods.map((p: any) => p.status.phase)).toEqual(['Succeeded']);
  });
});

describe('budgets', () => {
  it('computes PDB status from maxUnavailable and records the lowest Ready count at /sim/status', async () => {
    await c.kube.create('/apis/policy/v1/namespaces/ctl/poddisruptionbudgets', {
      metadata: { name: 'sched-pdb' },
      spec: { maxUnavailable: '34%', selector: { matchLabels: { app: 'sched' } } },
    });
    const pdb = await eventually(async () => {
      const p = await c.kube.get('/apis/policy/v1/namespaces/ctl/poddisruptionbudgets/sched-pdb');
      return p.status?.currentHealthy === 3 ? p : undefined;
    }, 'pdb status');
    expect(pdb.status).toMatchObject({ expectedPods: 3, desiredHealthy: 1, disruptionsAllowed: 2 });
    expect(pdb.status.conditions[0]).toMatchObject({ type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods' });
    const [victim] = await podsOf('sched');
    await c.kube.create(`${pods}/${victim.metadata.name}/eviction`, {
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { name: victim.metadata.name },
    });
    await eventually(
      async () => (await podsOf('sched')).filter((p) => isReady(p) && !p.metadata.deletionTimestamp).length === 3,
      'back to three ready',
    );
    const status = await c.kube.get('/sim/status');
    const record = status.budgets.find((b: any) => b.name === 'sched-pdb');
    expect(record).toMatchObject({ namespace: 'ctl', workloadDesired: 3, desiredHealthy: 1, lowestReady: 2 });
    expect(status.counts.pods).toBeGreaterThan(0);
  });
});
