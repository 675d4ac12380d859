// The comparison of who the machine at an inventory address says it is with the Node of that name (pure core).
import { describe, expect, it } from 'vitest';
import type { ClusterState, NodeIdentity } from '../../src/core/cluster-state.ts';
import { nodeIdentityVerdict } from '../../src/core/node-identity.ts';
import { buildPlan } from '../../src/core/plan.ts';
import { cluster, inventoryOf, settingsFrom } from './fixtures.ts';

const MID = (n: number) => n.toString(16).padStart(32, '0');

/** cp-1, cp-2, worker-1, worker-2 whose Nodes report machine-ids 1..4; each machine's identity from `say`. */
function state(say: (name: string, i: number) => NodeIdentity | undefined): ClusterState {
  const s = cluster({ controlPlanes: 2, workers: 2 });
  for (const [i, n] of s.nodes.entries()) n.machineID = MID(i + 1);
  s.nodeReports.forEach((r, i) => {
    const identity = say(r.name, i);
    if (identity) r.identity = identity;
  });
  return s;
}
const byCert = (node: string): NodeIdentity => ({
  certificateNode: node,
  certificateSource: '/var/lib/kubelet/pki/kubelet-client-current.pem',
});
const noCert: Pick<NodeIdentity, 'certificateProblem'> = {
  certificateProblem: '/etc/kubernetes/kubelet.conf could not be read or names no client certificate',
};
const swap = (name: string, a: string, b: string) => (name === a ? b : name === b ? a : name);

describe('node identity', () => {
  it('is ok when every machine is its Node, and says which proof was used', () => {
    const s = state((name, i) => (name === 'worker-2' ? { ...noCert, machineId: MID(i + 1) } : byCert(name)));
    expect(nodeIdentityVerdict(s, inventoryOf(s))).toMatchObject({
      severity: 'ok',
      message: expect.stringMatching(/kubelet client certificate: 3, machine-id: 1/),
    });
  });

  it('blocks when two control planes are swapped, naming the entry, the address, the Node it is and the fix', () => {
    const s = state((name) => byCert(swap(name, 'cp-1', 'cp-2')));
    const inventory = inventoryOf(s);
    const [a1, a2] = [inventory.nodes[0]!.address, inventory.nodes[1]!.address];
    const v = nodeIdentityVerdict(s, inventory);
    expect(v).toMatchObject({ id: 'node-identity', severity: 'mandatory', nodes: ['cp-1', 'cp-2'], nodeCount: 2 });
    expect(v.message).toContain(
      `inventory node cp-1 (address ${a1}) reaches Node cp-2: its kubelet client certificate (/var/lib/kubelet/pki/kubelet-client-current.pem) is CN=system:node:cp-2`,
    );
    expect(v.message).toContain(`inventory node cp-2 (address ${a2}) reaches Node cp-1`);
    expect(v.message).toContain(`Fix: correct the address of cp-1, cp-2 in the inventory (${a1} is cp-2, ${a2} is cp-1)`);
  });

  it('falls back to machine-id where no certificate is read: a swap, and a machine that is no Node', () => {
    const swapped = state((name, i) => ({ ...noCert, machineId: MID(name === 'worker-1' ? 4 : name === 'worker-2' ? 3 : i + 1) }));
    const v = nodeIdentityVerdict(swapped, inventoryOf(swapped));
    expect(v).toMatchObject({ severity: 'mandatory', nodes: ['worker-1', 'worker-2'] });
    expect(v.message).toMatch(
      /worker-1 \(address [\d.]+\) reaches Node worker-2: its \/etc\/machine-id is 0+4, while Node worker-1 reports machineID 0+3/,
    );

    const stranger = state((name, i) => ({ ...noCert, machineId: name === 'cp-2' ? 'f'.repeat(32) : MID(i + 1) }));
    expect(nodeIdentityVerdict(stranger, inventoryOf(stranger)).message).toMatch(
      /cp-2 \(address [\d.]+\) reaches a machine that is no Node of this cluster/,
    );
  });

  it('blocks when neither proof can be read, or the machine-id is shared by several Nodes (cloned machines)', () => {
    const none = state((name) => (name === 'worker-1' ? noCert : byCert(name)));
    const v = nodeIdentityVerdict(none, inventoryOf(none));
    expect(v).toMatchObject({ severity: 'mandatory', nodes: ['worker-1'] });
    expect(v.message).toMatch(
      /could not prove .* worker-1 \(address [\d.]+\): .*kubelet.conf could not be read.*, and \/etc\/machine-id could not be read\. Fix:/,
    );

    const cloned = state((_name) => ({ ...noCert, machineId: MID(1) }));
    for (const n of cloned.nodes) n.machineID = MID(1);
    expect(nodeIdentityVerdict(cloned, inventoryOf(cloned)).message).toMatch(
      /is reported by 4 Nodes \(cp-1, cp-2, worker-1, worker-2\), so it proves nothing/,
    );
  });

  it('is part of the plan: a swap blocks it; a node not probed for identity is not judged', () => {
    const s = state((name) => byCert(swap(name, 'worker-1', 'worker-2')));
    const plan = buildPlan(s, settingsFrom(), inventoryOf(s));
    expect(plan.verdict).toBe('blocked');
    expect(plan.blockers.find((b) => b.id === 'node-identity')?.message).toMatch(/worker-1 .* reaches Node worker-2/);

    const unread = state(() => undefined);
    expect(buildPlan(unread, settingsFrom(), inventoryOf(unread)).preflight.find((v) => v.id === 'node-identity')).toBeUndefined();
  });
});
