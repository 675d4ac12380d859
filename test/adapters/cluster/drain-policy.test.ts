// The drain's own decisions against a scripted API (no simulator): the pod policy it shares with the plan, the
// operator's cordon it never lifts, and a drain-timeout that runs to its end.
import { ApiException, type V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { drainNode, DrainError, type DrainOptions } from '../../../src/adapters/cluster/drain.ts';
import type { ClusterApis } from '../../../src/adapters/cluster/progress.ts';

const budgetRefusal = () =>
  new ApiException(
    429,
    'Too Many Requests',
    JSON.stringify({
      kind: 'Status',
      code: 429,
      reason: 'TooManyRequests',
      message: "Cannot evict pod as it would violate the pod's disruption budget.",
      details: {
        causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget web-pdb needs 3 healthy pods and has 3 currently' }],
      },
    }),
    {},
  );
const notFound = () =>
  new ApiException(404, 'Not Found', JSON.stringify({ kind: 'Status', code: 404, reason: 'NotFound', message: 'not found' }), {});

function pod(
  name: string,
  extra: { owner?: { kind: string; name: string }; emptyDir?: boolean; labels?: Record<string, string> } = {},
): V1Pod {
  return {
    metadata: {
      name,
      namespace: 'default',
      uid: `uid-${name}`,
      labels: extra.labels ?? { app: name },
      ...(extra.owner
        ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: extra.owner.kind, name: extra.owner.name, uid: 'o', controller: true }] }
        : {}),
    },
    spec: {
      nodeName: 'worker-1',
      containers: [{ name: 'c' }],
      ...(extra.emptyDir ? { volumes: [{ name: 'scratch', emptyDir: {} }] } : {}),
    },
    status: { phase: 'Running' },
  };
}

interface NodePatch {
  metadata?: { annotations?: Record<string, string | null> };
  spec?: { unschedulable: boolean | null };
}

/** A scripted API: the node's cordon state, its pods, which DaemonSets exist, and how evictions answer. */
function api(opts: {
  pods: V1Pod[];
  unschedulable?: boolean;
  annotations?: Record<string, string>;
  daemonSets?: string[];
  evict?: (name: string) => Error | undefined;
}) {
  const state = {
    unschedulable: opts.unschedulable ?? false,
    annotations: { ...opts.annotations } as Record<string, string>,
    evictions: [] as { pod: string; at: number }[],
    patches: [] as boolean[],
    bodies: [] as NodePatch[],
  };
  const gone = new Set<string>();
  const core = {
    readNode: async () => ({ metadata: { annotations: { ...state.annotations } }, spec: { unschedulable: state.unschedulable } }),
    patchNode: async ({ body }: { body: NodePatch }) => {
      state.bodies.push(body);
      for (const [key, value] of Object.entries(body.metadata?.annotations ?? {})) {
        if (value === null) delete state.annotations[key];
        else state.annotations[key] = value;
      }
      if (body.spec) {
        state.unschedulable = body.spec.unschedulable === true;
        state.patches.push(state.unschedulable);
      }
      return {};
    },
    listPodForAllNamespaces: async () => ({ metadata: {}, items: opts.pods.filter((p) => !gone.has(p.metadata!.name!)) }),
    createNamespacedPodEviction: async ({ name }: { name: string }) => {
      state.evictions.push({ pod: name, at: Date.now() });
      const refusal = opts.evict?.(name);
      if (refusal) throw refusal;
      gone.add(name);
      return {};
    },
    readNamespacedPod: async ({ name }: { name: string }) => {
      if (gone.has(name)) throw notFound();
      return opts.pods.find((p) => p.metadata!.name === name)!;
    },
    deleteNamespacedPod: async ({ name }: { name: string }) => void gone.add(name),
  };
  const apps = {
    readNamespacedDaemonSet: async ({ name }: { name: string }) => {
      if (!(opts.daemonSets ?? []).includes(name)) throw notFound();
      return {};
    },
  };
  return { state, apis: { core, apps } as unknown as ClusterApis };
}

const OPTIONS: DrainOptions = {
  timeoutMs: 60_000,
  deleteEmptyDirData: true,
  forceUnmanaged: false,
  fallbackDelete: false,
  retryDelayMs: 20,
  pollIntervalMs: 5,
};

describe('drain-timeout', () => {
  it('keeps asking until the deadline itself, not one retry delay before it', async () => {
    const { apis, state } = api({ pods: [pod('web-1', { owner: { kind: 'ReplicaSet', name: 'web' } })], evict: () => budgetRefusal() });
    const started = Date.now();
    const error = await drainNode(apis, 'worker-1', { ...OPTIONS, timeoutMs: 300, retryDelayMs: 200 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DrainError);
    expect((error as Error).message).toMatch(/did not finish within drain-timeout/);
    // asked at 0 and 200 ms, then once more at the 300 ms deadline (before: it gave up at 200 ms)
    expect(state.evictions.length).toBeGreaterThanOrEqual(3);
    expect(state.evictions.at(-1)!.at - started).toBeGreaterThanOrEqual(300);
  });
});

describe("the operator's cordon", () => {
  it('a failed drain of a node cordoned before it leaves the node cordoned', async () => {
    const { apis, state } = api({ pods: [pod('bare')], unschedulable: true });
    const error = (await drainNode(apis, 'worker-1', OPTIONS).catch((e: unknown) => e)) as DrainError;
    expect(error).toBeInstanceOf(DrainError);
    expect(error.uncordoned).toBe(false);
    expect(error.result.wasUnschedulable).toBe(true);
    expect(error.message).toMatch(/stays cordoned: it was cordoned before this drain/);
    expect(state.unschedulable).toBe(true);
    expect(state.patches).toEqual([]);
  });

  it('a failed drain of a node it cordoned itself uncordons it again', async () => {
    const { apis, state } = api({ pods: [pod('bare')] });
    const error = (await drainNode(apis, 'worker-1', OPTIONS).catch((e: unknown) => e)) as DrainError;
    expect(error.uncordoned).toBe(true);
    expect(state.patches).toEqual([true, false]);
  });
});

describe('the pod policy in the drain', () => {
  it('refuses a pod whose DaemonSet is gone, and deletes it with force-drain-unmanaged', async () => {
    const orphan = pod('agent-x', { owner: { kind: 'DaemonSet', name: 'old-agent' } });
    const live = pod('agent-y', { owner: { kind: 'DaemonSet', name: 'agent' } });
    const refused = (await drainNode(api({ pods: [orphan, live], daemonSets: ['agent'] }).apis, 'worker-1', OPTIONS).catch(
      (e: unknown) => e,
    )) as DrainError;
    expect(refused.blockers).toEqual([
      { pod: 'default/agent-x', reason: expect.stringMatching(/DaemonSet old-agent no longer exists.*force-drain-unmanaged: true/) },
    ]);
    const forced = api({ pods: [orphan, live], daemonSets: ['agent'] });
    const result = await drainNode(forced.apis, 'worker-1', { ...OPTIONS, forceUnmanaged: true });
    expect(result.evicted).toEqual(['default/agent-x']);
    expect(result.skipped).toEqual([{ pod: 'default/agent-y', reason: 'managed by DaemonSet agent' }]);
  });

  it('leaves pods outside drain-pod-selector alone, so a bare pod outside it does not block', async () => {
    const { apis } = api({
      pods: [pod('bare', { labels: { app: 'db' } }), pod('web-1', { owner: { kind: 'ReplicaSet', name: 'web' }, labels: { app: 'web' } })],
    });
    const result = await drainNode(apis, 'worker-1', { ...OPTIONS, podSelector: 'app!=db' });
    expect(result.evicted).toEqual(['default/web-1']);
  });

  it('refuses emptyDir pods when delete-emptydir-data is false, naming the input', async () => {
    const { apis } = api({ pods: [pod('cache-1', { owner: { kind: 'ReplicaSet', name: 'cache' }, emptyDir: true })] });
    const error = (await drainNode(apis, 'worker-1', { ...OPTIONS, deleteEmptyDirData: false }).catch((e: unknown) => e)) as DrainError;
    expect(error.blockers[0]!.reason).toMatch(/delete-emptydir-data: true/);
  });
});

describe("this Action's own cordon", () => {
  const MARK = 'upgrade.kubeadm-upgrade-action.io/cordoned-by-upgrade';

  it('marks the cordon as its own in the same PATCH that cordons, and clears the mark in the one that uncordons', async () => {
    const { apis, state } = api({ pods: [pod('bare')] });
    await drainNode(apis, 'worker-1', OPTIONS).catch(() => undefined);
    expect(state.bodies).toEqual([
      { metadata: { annotations: { [MARK]: expect.any(String) } }, spec: { unschedulable: true } },
      { metadata: { annotations: { [MARK]: null } }, spec: { unschedulable: null } },
    ]);
    expect(state.annotations).toEqual({});
  });

  it('a node an interrupted run of this Action cordoned is drained as its own: not a fence, uncordoned again when the drain fails', async () => {
    const { apis, state } = api({ pods: [pod('bare')], unschedulable: true, annotations: { [MARK]: '2026-12-03T10:00:00.000Z' } });
    const error = (await drainNode(apis, 'worker-1', OPTIONS).catch((e: unknown) => e)) as DrainError;
    expect(error).toBeInstanceOf(DrainError);
    expect(error.result.wasUnschedulable).toBe(false);
    expect(error.uncordoned).toBe(true);
    expect(state.unschedulable).toBe(false);
    expect(state.annotations).toEqual({});
  });

  it('a finished drain of such a node reports it as its own cordon', async () => {
    const { apis, state } = api({
      pods: [pod('web-1', { owner: { kind: 'ReplicaSet', name: 'web' } })],
      unschedulable: true,
      annotations: { [MARK]: '2026-12-03T10:00:00.000Z' },
    });
    const events: string[] = [];
    const result = await drainNode(apis, 'worker-1', OPTIONS, (e) => events.push(e.message));
    expect(result.wasUnschedulable).toBe(false);
    expect(events[0]).toMatch(/worker-1 was cordoned by an earlier run of this Action/);
    expect(state.unschedulable).toBe(true);
  });
});
