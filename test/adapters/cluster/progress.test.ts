// Progress annotations on Nodes against the simulator's API server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clearProgress,
  firstStageNotDone,
  MERGE_PATCH,
  PROGRESS_ACCESS,
  readProgress,
  recordStage,
  type ClusterApis,
} from '../../../src/adapters/cluster/progress.ts';
import { createReadyNode, startTestCluster, suiteId, type TestCluster } from './fixtures.ts';

let cluster: TestCluster;
let api: ClusterApis;
let action: ClusterApis;

beforeAll(async () => {
  cluster = await startTestCluster();
  api = cluster.api;
  // the progress records are written as a user with exactly PROGRESS_ACCESS
  action = await cluster.actingAs(PROGRESS_ACCESS);
});
afterAll(async () => {
  await cluster?.close();
});

const STAGES = ['drain', 'upgrade-packages', 'kubeadm-upgrade', 'restart-kubelet', 'uncordon'];
const RUN = 'owner/repo run 42 attempt 1';

async function freshNode(): Promise<string> {
  const suite = suiteId();
  const node = `${suite}-n1`;
  await createReadyNode(api, node, { suite });
  return node;
}

describe('node progress', () => {
  it('is absent on a node nothing was recorded on', async () => {
    const node = await freshNode();
    expect(await readProgress(action, node)).toBeUndefined();
    expect(firstStageNotDone(undefined, '1.31.2', STAGES)).toBe('drain');
  });

  it('round-trips through the Node annotations, so a re-run resumes at the first stage not done', async () => {
    const node = await freshNode();
    await recordStage(action, node, { target: '1.31.2', stage: 'drain', run: RUN, status: 'started' });
    await recordStage(action, node, { target: '1.31.2', stage: 'drain', run: RUN, status: 'done' });
    await recordStage(action, node, { target: '1.31.2', stage: 'upgrade-packages', run: RUN, status: 'done' });
    await recordStage(action, node, { target: '1.31.2', stage: 'kubeadm-upgrade', run: RUN, status: 'failed' });

    const progress = await readProgress(action, node);
    expect(progress).toMatchObject({
      target: '1.31.2',
      stage: 'kubeadm-upgrade',
      stageStatus: 'failed',
      run: RUN,
      doneStages: ['drain', 'upgrade-packages'],
    });
    expect(Date.parse(progress!.stageTime!)).toBeGreaterThan(Date.now() - 60_000);
    expect(firstStageNotDone(progress, '1.31.2', STAGES)).toBe('kubeadm-upgrade');
    const annotations = (await api.core.readNode({ name: node })).metadata?.annotations ?? {};
    expect(annotations['upgrade.kubeadm-upgrade-action.io/done-stages']).toBe('drain,upgrade-packages');
  });

  it('starts the done stages afresh for another target', async () => {
    const node = await freshNode();
    await recordStage(action, node, { target: '1.30.9', stage: 'drain', run: RUN, status: 'done' });
    const next = await recordStage(action, node, {
      target: '1.31.2',
      stage: 'drain',
      run: 'owner/repo run 43 attempt 1',
      status: 'started',
    });
    expect(next).toMatchObject({ target: '1.31.2', doneStages: [], stageStatus: 'started', run: 'owner/repo run 43 attempt 1' });
    expect(firstStageNotDone(next, '1.31.2', STAGES)).toBe('drain');
    expect(firstStageNotDone(await readProgress(action, node), '1.30.9', STAGES)).toBe('drain');
  });

  it("is cleared without touching the node's other annotations", async () => {
    const node = await freshNode();
    await api.core.patchNode({ name: node, body: { metadata: { annotations: { 'example.com/owner': 'team-a' } } } }, MERGE_PATCH);
    for (const stage of STAGES) await recordStage(action, node, { target: '1.31.2', stage, run: RUN, status: 'done' });
    expect(firstStageNotDone(await readProgress(action, node), '1.31.2', STAGES)).toBeUndefined();

    await clearProgress(action, node);
    expect(await readProgress(action, node)).toBeUndefined();
    const annotations = (await api.core.readNode({ name: node })).metadata?.annotations ?? {};
    expect(Object.keys(annotations).filter((k) => k.startsWith('upgrade.kubeadm-upgrade-action.io/'))).toEqual([]);
    expect(annotations['example.com/owner']).toBe('team-a');
  });
});
