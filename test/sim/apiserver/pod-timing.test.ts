// Time as a real cluster has it: a deleted pod stays Terminating until its containers exit (podStopMs after
// the delete; the whole grace period when they ignore SIGTERM), and a replacement is Running before it is
// Ready (podReadyMs), so a PodDisruptionBudget counts only Ready pods and has room again only once the
// replacement is Ready.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IGNORES_SIGTERM_ANNOTATION } from '../../../sim/apiserver/controllers/kubelet.ts';
import { KubeApiError } from '../../../sim/lib/kube-rest.ts';
import { deploymentBody, eventually, nodeBody, startTestCluster, type TestCluster } from './helpers.ts';

let c: TestCluster;
const ns = 'timing';
const pods = `/api/v1/namespaces/${ns}/pods`;

const condition = (p: any, type: string) => p?.status?.conditions?.find((x: any) => x.type === type)?.status;
const isReady = (p: any) => condition(p, 'Ready') === 'True';

function barePod(name: string, grace: number, ignoresSigterm: boolean): object {
  return {
    metadata: { name, ...(ignoresSigterm ? { annotations: { [IGNORES_SIGTERM_ANNOTATION]: 'true' } } : {}) },
    spec: { nodeName: 'n1', terminationGracePeriodSeconds: grace, containers: [{ name: 'a', image: 'a:1' }] },
  };
}

beforeAll(async () => {
  c = await startTestCluster({ delays: { podStartMs: 100, podStopMs: 100, podReadyMs: 1500 } });
  await c.kube.create('/api/v1/nodes', nodeBody('n1'));
  await c.kube.create('/api/v1/nodes', nodeBody('n2'));
  await c.kube.create('/api/v1/namespaces', { metadata: { name: ns } });
});
afterAll(async () => {
  await c?.close();
});

describe('pods that take time to stop', () => {
  it('keeps a deleted pod Terminating until its containers exit; one that ignores SIGTERM stays its grace period', async () => {
    await c.kube.create(pods, barePod('polite', 30, false));
    await c.kube.create(pods, barePod('stubborn', 3, true));
    await eventually(
      async () => isReady(await c.kube.get(`${pods}/polite`)) && isReady(await c.kube.get(`${pods}/stubborn`)),
      'both Ready',
    );

    const answer = await c.kube.del(`${pods}/stubborn`);
    await c.kube.del(`${pods}/polite`);
    expect(answer.metadata.deletionTimestamp).toBeDefined();
    expect(answer.metadata.deletionGracePeriodSeconds).toBe(3);

    // the polite pod's containers exit on SIGTERM (podStopMs), long before its 30 s grace period ends
    await eventually(async () => (await c.kube.getOrNull(`${pods}/polite`)) === null, 'the polite pod gone');
    const stubborn = await c.kube.getOrNull(`${pods}/stubborn`);
    expect(stubborn?.metadata.deletionTimestamp).toBe(answer.metadata.deletionTimestamp);
    // …while the stubborn one is killed only when its grace period is over
    await eventually(async () => (await c.kube.getOrNull(`${pods}/stubborn`)) === null, 'the stubborn pod gone', 10_000);
  });
});

describe('replacements that take time to become Ready', () => {
  it('shows a started pod Running but not Ready for its readiness delay, then Ready', async () => {
    await c.kube.create(pods, barePod('slow-ready', 1, false));
    const running = await eventually(async () => {
      const p = await c.kube.get(`${pods}/slow-ready`);
      return p.status?.phase === 'Running' ? p : undefined;
    }, 'Running');
    expect(condition(running, 'Ready')).toBe('False');
    expect(condition(running, 'ContainersReady')).toBe('False');
    expect(running.status.containerStatuses.map((s: any) => [s.started, s.ready])).toEqual([[true, false]]);
    await eventually(async () => isReady(await c.kube.get(`${pods}/slow-ready`)), 'Ready');
  });

  it('counts only Ready pods in the budget: evictions are refused until the replacement is Ready', async () => {
    await c.kube.create(`/apis/apps/v1/namespaces/${ns}/deployments`, deploymentBody('web', 3));
    await c.kube.create(`/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets`, {
      metadata: { name: 'web-pdb' },
      spec: { minAvailable: 2, selector: { matchLabels: { app: 'web' } } },
    });
    const pdbPath = `/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets/web-pdb`;
    const webPods = async () => (await c.kube.list(pods, { labelSelector: 'app=web' })).items as any[];
    await eventually(async () => (await c.kube.get(pdbPath)).status?.disruptionsAllowed === 1, 'budget allows one');
    const [first, second] = await webPods();

    const evict = (name: string) =>
      c.kube.create(`${pods}/${name}/eviction`, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: ns } });
    await evict(first.metadata.name);

    // the replacement starts and runs, but until its readiness delay is over the budget has no room
    const replacement = await eventually(async () => {
      const list = await webPods();
      return list.find(
        (p) =>
          p.metadata.uid !== first.metadata.uid && p.metadata.uid !== second.metadata.uid && !isReady(p) && p.status?.phase === 'Running',
      );
    }, 'a Running, not yet Ready replacement');
    expect(replacement).toBeDefined();
    const status = (await c.kube.get(pdbPath)).status;
    expect(status.currentHealthy).toBe(2);
    expect(status.disruptionsAllowed).toBe(0);
    const refused = await evict(second.metadata.name).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(KubeApiError);
    expect((refused as KubeApiError).status).toBe(429);

    // once it is Ready, the budget has room again and the eviction goes through
    await eventually(async () => {
      const s = (await c.kube.get(pdbPath)).status;
      return s.currentHealthy === 3 && s.disruptionsAllowed === 1;
    }, 'budget room again');
    await evict(second.metadata.name);
  });
});
