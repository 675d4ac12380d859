// Patching Nodes as the Action does: merge and strategic merge patches with their content types, cordon,
// and the rule that status changes only through /status.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { V1Node } from '@kubernetes/client-node';
import { KUBELET_VERSION, closeScope, mergePatch, openScope, strategicMergePatch, type ContractScope } from './fixture.ts';
import { describeResponse, rawRequest } from './raw.ts';
import { apiFailure, waitFor } from './wait.ts';

const UNSCHEDULABLE_TAINT = 'node.kubernetes.io/unschedulable';

let scope: ContractScope;

beforeAll(async () => {
  scope = await openScope(0);
});
afterAll(async () => {
  await closeScope(scope);
});

async function freshNode(): Promise<string> {
  return (await scope.createReadyNode()).metadata!.name!;
}

function nodePath(name: string, subresource = ''): string {
  return `/api/v1/nodes/${name}${subresource}`;
}

describe('patch content types', () => {
  it('merge patch (application/merge-patch+json) adds a label and null deletes one', async () => {
    const name = await freshNode();
    const add = await rawRequest(scope.kubeconfig, {
      method: 'PATCH',
      path: nodePath(name),
      contentType: 'application/merge-patch+json',
      body: { metadata: { labels: { 'contract.test/a': 'one', 'contract.test/b': 'two' } } },
    });
    expect(add.status, describeResponse(add)).toBe(200);
    expect(add.contentType).toMatch(/^application\/json/);
    expect(add.json.metadata.labels).toMatchObject({ 'contract.test/a': 'one', 'contract.test/b': 'two' });

    const remove = await rawRequest(scope.kubeconfig, {
      method: 'PATCH',
      path: nodePath(name),
      contentType: 'application/merge-patch+json',
      body: { metadata: { labels: { 'contract.test/a': null } } },
    });
    expect(remove.status, describeResponse(remove)).toBe(200);
    expect(remove.json.metadata.labels).not.toHaveProperty('contract.test/a');
    expect(remove.json.metadata.labels['contract.test/b']).toBe('two');
  });

  it('strategic merge patch (application/strategic-merge-patch+json) through client-node', async () => {
    const name = await freshNode();
    const patched = await scope.core.patchNode(
      { name, body: { metadata: { annotations: { 'contract.test/stage': 'drained' }, labels: { 'contract.test/c': 'x' } } } },
      strategicMergePatch,
    );
    expect(patched.metadata?.annotations?.['contract.test/stage']).toBe('drained');
    const read = await scope.core.readNode({ name });
    expect(read.metadata?.labels?.['contract.test/c']).toBe('x');
    expect(read.metadata?.labels?.['kubernetes.io/hostname']).toBe(name);
  });

  it('PATCH with Content-Type application/json is refused with 415 UnsupportedMediaType', async () => {
    const name = await freshNode();
    const response = await rawRequest(scope.kubeconfig, {
      method: 'PATCH',
      path: nodePath(name),
      contentType: 'application/json',
      body: { metadata: { labels: { 'contract.test/d': 'y' } } },
    });
    expect(response.status, describeResponse(response)).toBe(415);
    expect(response.json).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'UnsupportedMediaType', code: 415 });
    const message: string = response.json.message;
    expect(message.startsWith('the body of the request was in an unknown format - accepted media types include: ')).toBe(true);
    for (const accepted of ['application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/json-patch+json']) {
      expect(message).toContain(accepted);
    }
    const read = await scope.core.readNode({ name });
    expect(read.metadata?.labels).not.toHaveProperty('contract.test/d');
  });

  it('client-node patchNode without a patch content type sends JSON patch: an object body is 400', async () => {
    // The trap the Action must avoid (and a simulator must not hide): no setHeaderOptions means json-patch.
    const name = await freshNode();
    const failure = await apiFailure(scope.core.patchNode({ name, body: { metadata: { labels: { 'contract.test/f': 'v' } } } }));
    expect(failure.code).toBe(400);
    expect(failure.status.message).toContain('cannot unmarshal object into Go value of type jsonpatch.Patch');
    const read = await scope.core.readNode({ name });
    expect(read.metadata?.labels).not.toHaveProperty('contract.test/f');
  });

  it('merge patch on a missing node is 404', async () => {
    const response = await rawRequest(scope.kubeconfig, {
      method: 'PATCH',
      path: nodePath(`${scope.run}-absent`),
      contentType: 'application/merge-patch+json',
      body: { metadata: { labels: { x: 'y' } } },
    });
    expect(response.status, describeResponse(response)).toBe(404);
    expect(response.json).toMatchObject({ kind: 'Status', reason: 'NotFound', message: `nodes "${scope.run}-absent" not found` });
  });
});

describe('cordon', () => {
  const hasTaint = (node: V1Node) => (node.spec?.taints ?? []).some((t) => t.key === UNSCHEDULABLE_TAINT && t.effect === 'NoSchedule');

  it('a merge patch of spec.unschedulable cordons; the unschedulable taint follows, and leaves on uncordon', async () => {
    const name = await freshNode();
    const cordoned = await scope.core.patchNode({ name, body: { spec: { unschedulable: true } } }, mergePatch);
    expect(cordoned.spec?.unschedulable).toBe(true);
    // The taint is added by a controller, so it need not be in the PATCH response; it must appear soon after.
    const tainted = await waitFor('the unschedulable taint', async () => {
      const node = await scope.core.readNode({ name });
      return hasTaint(node) ? { done: true, value: node } : { done: false, seen: node.spec };
    });
    const taint = tainted.spec!.taints!.find((t) => t.key === UNSCHEDULABLE_TAINT)!;
    expect(taint.timeAdded, 'the controller stamps timeAdded on the taint').toBeDefined();

    const uncordoned = await scope.core.patchNode({ name, body: { spec: { unschedulable: null } } }, mergePatch);
    expect(uncordoned.spec?.unschedulable ?? false).toBe(false);
    await waitFor('the unschedulable taint to go', async () => {
      const node = await scope.core.readNode({ name });
      return hasTaint(node) ? { done: false, seen: node.spec } : { done: true, value: node };
    });
  });
});

describe('node status only through /status', () => {
  it('a main-resource patch of status is ignored while its metadata change applies', async () => {
    const name = await freshNode();
    const body = { metadata: { labels: { 'contract.test/e': 'z' } }, status: { nodeInfo: { kubeletVersion: 'v0.0.1' } } };
    const patched = await scope.core.patchNode({ name, body }, mergePatch);
    expect(patched.metadata?.labels?.['contract.test/e']).toBe('z');
    expect(patched.status?.nodeInfo?.kubeletVersion).toBe(KUBELET_VERSION);
    const read = await scope.core.readNode({ name });
    expect(read.status?.nodeInfo?.kubeletVersion).toBe(KUBELET_VERSION);
  });

  it('a /status patch changes status and ignores spec', async () => {
    const name = await freshNode();
    const body = { spec: { unschedulable: true }, status: { nodeInfo: { kubeletVersion: 'v1.31.1' } } };
    const patched = await scope.core.patchNodeStatus({ name, body }, mergePatch);
    expect(patched.status?.nodeInfo?.kubeletVersion).toBe('v1.31.1');
    const read = await scope.core.readNode({ name });
    expect(read.status?.nodeInfo?.kubeletVersion).toBe('v1.31.1');
    expect(read.spec?.unschedulable ?? false).toBe(false);
  });

  it('strategic merge merges status conditions by type; merge patch replaces the whole list', async () => {
    const name = await freshNode();
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const condition = (type: string, status: string) => ({
      type,
      status,
      lastHeartbeatTime: now,
      lastTransitionTime: now,
      reason: `Contract${type}`,
    });
    const conditionsOf = (node: V1Node) => Object.fromEntries((node.status?.conditions ?? []).map((c) => [c.type, c.status]));

    const three = [condition('Ready', 'True'), condition('MemoryPressure', 'False'), condition('DiskPressure', 'False')];
    await scope.core.patchNodeStatus({ name, body: { status: { conditions: three } } }, mergePatch);
    const merged = await scope.core.patchNodeStatus(
      { name, body: { status: { conditions: [condition('MemoryPressure', 'True')] } } },
      strategicMergePatch,
    );
    expect(conditionsOf(merged)).toEqual({ Ready: 'True', MemoryPressure: 'True', DiskPressure: 'False' });

    const replaced = await scope.core.patchNodeStatus({ name, body: { status: { conditions: [condition('Ready', 'True')] } } }, mergePatch);
    expect(conditionsOf(replaced)).toEqual({ Ready: 'True' });
    expect(conditionsOf(await scope.core.readNode({ name }))).toEqual({ Ready: 'True' });
  });
});
