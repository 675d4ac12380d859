// Is the machine at an inventory address the Node of that name? Every change on a node (packages, kubeadm, the
// kubelet's restart) goes to the address, while the drain and the records go to the Node by name: with two
// addresses swapped, one node would be upgraded while the other was drained. The probe reads two proofs (pure
// comparison here): the kubelet's own client certificate (CN=system:node:NAME, which the API server itself
// trusts as the node's identity), and where no certificate can be read, /etc/machine-id against the Node's
// status.nodeInfo.machineID (what the kubelet reported from that same file), when no other Node reports it too.
import type { ClusterState } from './cluster-state.ts';
import type { Inventory, InventoryNode } from './inventory.ts';
import type { PreflightVerdict } from './plan-types.ts';
import { capNames, listText } from './util.ts';

export type IdentityProof = 'kubelet client certificate' | 'machine-id';

export type IdentityFinding =
  | { node: string; outcome: 'proven'; proof: IdentityProof }
  /** the machine is another Node (`machineIs`), or, by machine-id, no Node of this cluster (`machineIs` absent) */
  | { node: string; outcome: 'mismatch'; proof: IdentityProof; address: string; machineIs?: string; detail: string }
  | { node: string; outcome: 'unproven'; address: string; reason: string };

/** What the certificate or the machine-id says about the machine the inventory entry `entry` reached. */
export function identityOf(entry: InventoryNode, state: ClusterState): IdentityFinding | undefined {
  const report = state.nodeReports.find((r) => r.name === entry.name);
  const identity = report?.reachable ? report.identity : undefined;
  if (!identity) return undefined; // not read (unreachable: nodes-reachable says so)
  const { address, name } = entry;
  if (identity.certificateNode !== undefined) {
    const proof = 'kubelet client certificate';
    if (identity.certificateNode === name) return { node: name, outcome: 'proven', proof };
    return {
      node: name,
      outcome: 'mismatch',
      proof,
      address,
      machineIs: identity.certificateNode,
      detail: `its kubelet client certificate (${identity.certificateSource ?? 'kubelet.conf'}) is CN=system:node:${identity.certificateNode}`,
    };
  }
  const noCertificate = identity.certificateProblem ?? 'no kubelet client certificate could be read';
  const own = state.nodes.find((n) => n.name === name);
  if (identity.machineId === undefined)
    return { node: name, outcome: 'unproven', address, reason: `${noCertificate}, and /etc/machine-id could not be read` };
  const holders = state.nodes.filter((n) => n.machineID === identity.machineId).map((n) => n.name);
  if (holders.length === 1 && holders[0] === name) return { node: name, outcome: 'proven', proof: 'machine-id' };
  if (holders.includes(name))
    return {
      node: name,
      outcome: 'unproven',
      address,
      reason: `${noCertificate}, and its machine-id ${identity.machineId} is reported by ${holders.length} Nodes (${listText(holders)}), so it proves nothing`,
    };
  if (!own?.machineID)
    return { node: name, outcome: 'unproven', address, reason: `${noCertificate}, and Node ${name} reports no status.nodeInfo.machineID` };
  return {
    node: name,
    outcome: 'mismatch',
    proof: 'machine-id',
    address,
    ...(holders.length > 0 ? { machineIs: holders.join(' or ') } : {}),
    detail: `its /etc/machine-id is ${identity.machineId}, while Node ${name} reports machineID ${own.machineID}`,
  };
}

/**
 * The preflight verdict node-identity: mandatory when any inventory entry reaches another Node's machine, and
 * mandatory too when neither proof could be read on a node (every kubeadm node has kubelet.conf and a
 * machine-id; a machine without either is not a node this Action may change on trust).
 */
export function nodeIdentityVerdict(state: ClusterState, inventory: Inventory): PreflightVerdict {
  const findings = inventory.nodes.map((n) => identityOf(n, state)).filter((f) => f !== undefined);
  const mismatches = findings.filter((f) => f.outcome === 'mismatch');
  const unproven = findings.filter((f) => f.outcome === 'unproven');
  if (mismatches.length > 0) {
    const each = mismatches
      .slice(0, 5)
      .map(
        (m) =>
          `inventory node ${m.node} (address ${m.address}) reaches ${m.machineIs ? `Node ${m.machineIs}` : `a machine that is no Node of this cluster`}: ${m.detail}`,
      );
    const fixes = mismatches
      .filter((m) => m.machineIs)
      .slice(0, 5)
      .map((m) => `${m.address} is ${m.machineIs}`);
    return {
      id: 'node-identity',
      severity: 'mandatory',
      message:
        `${mismatches.length} inventory node(s) whose address reaches another machine than the Node of that name: ${each.join('; ')}${mismatches.length > 5 ? '; …' : ''}. ` +
        `Fix: correct the address of ${listText(mismatches.map((m) => m.node))} in the inventory${fixes.length > 0 ? ` (${fixes.join(', ')})` : ''}; nothing was changed on any node`,
      ...capNames(mismatches.map((m) => m.node)),
    };
  }
  if (unproven.length > 0) {
    const each = unproven.slice(0, 5).map((u) => `${u.node} (address ${u.address}): ${u.reason}`);
    return {
      id: 'node-identity',
      severity: 'mandatory',
      message:
        `could not prove that the machine at the inventory address is the Node of that name on ${unproven.length} node(s): ${each.join('; ')}${unproven.length > 5 ? '; …' : ''}. ` +
        "Fix: check that each address is that Node's machine, and that root can read /etc/kubernetes/kubelet.conf there (its client-certificate-data, or the file its client-certificate names, CN=system:node:NAME) or that /etc/machine-id matches the Node's status.nodeInfo.machineID",
      ...capNames(unproven.map((u) => u.node)),
    };
  }
  const count = (proof: IdentityProof) => findings.filter((f) => f.outcome === 'proven' && f.proof === proof).length;
  const byCert = count('kubelet client certificate');
  const byMachineId = count('machine-id');
  return {
    id: 'node-identity',
    severity: 'ok',
    message:
      findings.length === 0
        ? 'no node was read, so no machine was checked against its Node'
        : `the machine at every inventory address is the Node of that name (kubelet client certificate: ${byCert}, machine-id: ${byMachineId})`,
    ...capNames([]),
  };
}
