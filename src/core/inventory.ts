// The inventory: which nodes to upgrade and how to reach them. Parsed from YAML text (hand-written for 3 nodes,
// generated for 3,000), validated strictly, with defaults applied. Hostile values never get past here.
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import type { NodeObservation } from './cluster-state.ts';
import { InputError, type InputProblem } from './errors.ts';
import { inventorySchema, type InventoryInput } from './inventory-schema.ts';
import { addressProblem } from './names.ts';
import { MAX_INVENTORY_BYTES, type Settings } from './settings.ts';

export { inventoryJsonSchema } from './inventory-schema.ts';

export interface InventoryNode {
  name: string;
  address: string;
  role: 'control-plane' | 'worker';
  user: string;
  port: number;
  transport: 'ssh' | 'local';
  labels: Record<string, string>;
  batch?: number;
  hostKeyFingerprint?: string;
}

export interface Inventory {
  cluster?: string;
  nodes: InventoryNode[];
}

/** Aliases allowed (uses × nested aliases, as the yaml library counts): plenty for `<<: *defaults` on 3,000 nodes, far too few for a bomb. */
const MAX_ALIAS_COUNT = 20_000;

/** Parses and validates inventory YAML; throws InputError naming `inventory` and the offending path. */
export function parseInventory(text: string, source: string, settings: Settings): Inventory {
  const where = source === 'input' ? 'inventory' : `inventory (${source})`;
  const data = parseYaml(text, where);
  const parsed = inventorySchema.safeParse(data);
  if (!parsed.success) {
    // Typos first: a misspelt key also shows up as a missing one, and the typo is the cause.
    const issues = [...parsed.error.issues].sort((a, b) => Number(b.code === 'unrecognized_keys') - Number(a.code === 'unrecognized_keys'));
    throw new InputError(issues.map((issue) => issueToProblem(issue, where, data)));
  }
  const inventory = applyDefaults(parsed.data, settings);
  const problems = [...crossNodeProblems(inventory, where), ...accessProblems(inventory, settings)];
  if (problems.length > 0) throw new InputError(problems);
  return inventory;
}

function parseYaml(text: string, where: string): unknown {
  const fail = (problem: string, fix: string): never => {
    throw new InputError([{ input: where, problem, fix }]);
  };
  if (Buffer.byteLength(text) > MAX_INVENTORY_BYTES) fail(`is larger than ${MAX_INVENTORY_BYTES} bytes`, 'list only the nodes to upgrade');
  if (text.trim() === '') fail('is empty', 'list the nodes: nodes: [{ name: cp-1, address: 10.0.0.10, role: control-plane }]');
  const doc = parseDocument(text, { uniqueKeys: true, merge: true, prettyErrors: true });
  const first = doc.errors[0];
  if (first) {
    const duplicate = first.code === 'DUPLICATE_KEY';
    const line = first.linePos?.[0] ? ` at line ${first.linePos[0].line}` : '';
    fail(
      duplicate
        ? `has a duplicate key${line} (${first.message.split('\n')[0]})`
        : `is not valid YAML${line}: ${first.message.split('\n')[0]}`,
      duplicate
        ? 'keep each key once per mapping; a later duplicate would silently override the earlier one'
        : 'fix the YAML syntax at that line',
    );
  }
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    return fail(
      `expands too many YAML aliases (${(error as Error).message}); refusing it as a resource-exhaustion attack`,
      'write the nodes out, or use fewer anchors and aliases',
    );
  }
}

function pathText(path: readonly PropertyKey[]): string {
  return path
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
    .join('')
    .replace(/^\./, '');
}

const KNOWN_KEYS: Record<string, string[]> = {
  root: ['cluster', 'defaults', 'nodes', '$schema'],
  defaults: ['user', 'port', 'transport'],
  node: ['name', 'address', 'role', 'user', 'port', 'transport', 'labels', 'batch', 'hostKeyFingerprint'],
};

function issueToProblem(issue: z.core.$ZodIssue, where: string, data: unknown): InputProblem {
  const at = pathText(issue.path);
  const input = at ? `${where}: ${at}` : where;
  if (issue.code === 'unrecognized_keys') {
    const kind = issue.path.length === 0 ? 'root' : issue.path[0] === 'defaults' ? 'defaults' : 'node';
    const known = KNOWN_KEYS[kind]!;
    const hints = issue.keys.map((key) => {
      const near = closest(key, known);
      return near ? `"${key}" (did you mean "${near}"?)` : `"${key}"`;
    });
    return {
      input,
      problem: `has unknown key${issue.keys.length > 1 ? 's' : ''} ${hints.join(', ')}`,
      fix: `use only: ${known.join(', ')}`,
    };
  }
  if (issue.code === 'invalid_type' && issue.path.length === 0) {
    return { input, problem: `is not a mapping with a nodes list (got ${typeName(data)})`, fix: 'start with nodes: and list the nodes' };
  }
  const problem =
    issue.code === 'invalid_type' && /received undefined/.test(issue.message) ? `is missing (expected ${issue.expected})` : issue.message;
  return { input, problem, fix: fixFor(issue.path) };
}

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v;
}

function fixFor(path: readonly PropertyKey[]): string {
  const last = String(path.at(-1) ?? '');
  const fixes: Record<string, string> = {
    name: 'use the Node name exactly as kubectl get nodes shows it',
    address: 'use an IP address (10.0.0.10, fd00::10) or a host name (node-1.example.com); no spaces, quotes or shell characters',
    role: 'use control-plane or worker',
    user: 'use a plain login name such as root or ubuntu',
    port: 'use a port number from 1 to 65535',
    transport: 'use ssh or local',
    batch: 'use a whole number; workers with the same number share a batch',
    hostKeyFingerprint: 'copy it from ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub (the SHA256:… part)',
    nodes: 'list at least one node',
    cluster: 'use a short name such as prod-eu',
  };
  if (path.includes('labels'))
    return 'use Kubernetes label syntax: key prefix/name of at most 63 characters, value of at most 63 characters';
  return fixes[last] ?? 'see schema/inventory.schema.json';
}

/** The known key nearest to a typo (edit distance ≤ 2, or a case-insensitive match). */
export function closest(word: string, candidates: string[]): string | undefined {
  let best: { c: string; d: number } | undefined;
  for (const c of candidates) {
    const d = c.toLowerCase() === word.toLowerCase() ? 0 : editDistance(word, c);
    if (d <= 2 && (!best || d < best.d)) best = { c, d };
  }
  return best?.c;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

function applyDefaults(input: InventoryInput, settings: Settings): Inventory {
  const d = input.defaults ?? {};
  const nodes = input.nodes.map(
    (n): InventoryNode => ({
      name: n.name,
      address: n.address,
      role: n.role,
      user: n.user ?? d.user ?? settings.ssh.user,
      port: n.port ?? d.port ?? settings.ssh.port,
      transport: n.transport ?? d.transport ?? settings.transport,
      labels: n.labels ?? {},
      ...(n.batch !== undefined ? { batch: n.batch } : {}),
      ...(n.hostKeyFingerprint ? { hostKeyFingerprint: n.hostKeyFingerprint } : {}),
    }),
  );
  return input.cluster ? { cluster: input.cluster, nodes } : { nodes };
}

function crossNodeProblems(inv: Inventory, where: string): InputProblem[] {
  const problems: InputProblem[] = [];
  const names = new Map<string, number>();
  const addresses = new Map<string, number>();
  inv.nodes.forEach((node, i) => {
    const sameName = names.get(node.name);
    if (sameName !== undefined) {
      problems.push({
        input: `${where}: nodes[${i}].name`,
        problem: `"${node.name}" is listed twice (also nodes[${sameName}])`,
        fix: 'list every node once',
      });
    } else names.set(node.name, i);
    if (node.transport !== 'ssh') return;
    const key = `${node.address.toLowerCase()}:${node.port}`;
    const sameAddress = addresses.get(key);
    if (sameAddress !== undefined) {
      problems.push({
        input: `${where}: nodes[${i}].address`,
        problem: `${node.address} port ${node.port} is also the address of nodes[${sameAddress}] (${inv.nodes[sameAddress]!.name})`,
        fix: 'give every node its own address; two entries for one machine would upgrade it twice',
      });
    } else addresses.set(key, i);
  });
  if (!inv.nodes.some((n) => n.role === 'control-plane')) {
    problems.push({
      input: where,
      problem: 'has no node with role: control-plane',
      fix: 'list the control-plane nodes too: the upgrade starts there (kubeadm upgrade apply)',
    });
  }
  return problems;
}

/** SSH nodes need a key, and a way to verify host keys unless the user opted out. */
function accessProblems(inv: Inventory, settings: Settings): InputProblem[] {
  const sshNodes = inv.nodes.filter((n) => n.transport === 'ssh');
  if (sshNodes.length === 0) return [];
  const problems: InputProblem[] = [];
  if (!settings.ssh.privateKey) {
    problems.push({
      input: 'ssh-private-key',
      problem: `is empty, but ${sshNodes.length} node(s) use transport ssh (${sshNodes
        .slice(0, 3)
        .map((n) => n.name)
        .join(', ')}${sshNodes.length > 3 ? ', …' : ''})`,
      fix: 'pass the key from a secret: ssh-private-key: ${{ secrets.SSH_PRIVATE_KEY }}, or use transport: local on self-hosted runners',
    });
  }
  const unverifiable = sshNodes.filter((n) => !n.hostKeyFingerprint);
  if (!settings.ssh.knownHosts && !settings.ssh.insecureSkipHostKeyCheck && unverifiable.length > 0) {
    problems.push({
      input: 'ssh-known-hosts',
      problem: `is empty, so the host keys of ${unverifiable.length} node(s) (${unverifiable
        .slice(0, 3)
        .map((n) => n.name)
        .join(', ')}${unverifiable.length > 3 ? ', …' : ''}) cannot be verified`,
      fix: 'pass known_hosts lines (ssh-keyscan output you checked) in ssh-known-hosts, or hostKeyFingerprint per node in the inventory',
    });
  }
  return problems;
}

/** An inventory from the cluster's own Node objects (address = InternalIP), for clusters without an inventory file. */
export function inventoryFromCluster(nodes: NodeObservation[], settings: Settings): Inventory {
  if (nodes.length === 0) {
    throw new InputError([
      {
        input: 'inventory',
        problem: 'is not given, and the cluster lists no Node objects to build one from (is the API reachable?)',
        fix: 'pass the inventory input, or check the kubeconfig and the API server',
      },
    ]);
  }
  const problems: InputProblem[] = [];
  const inventory: Inventory = { nodes: [] };
  for (const node of nodes) {
    const address = node.internalIP ?? '';
    const problem = address ? addressProblem(address) : 'is missing';
    if (problem) {
      problems.push({
        input: 'inventory',
        problem: `node ${node.name} has no usable InternalIP (it ${problem})`,
        fix: "pass an inventory that gives this node's address",
      });
      continue;
    }
    inventory.nodes.push({
      name: node.name,
      address,
      role: node.role,
      user: settings.ssh.user,
      port: settings.ssh.port,
      transport: settings.transport,
      labels: { ...node.labels },
    });
  }
  problems.push(...crossNodeProblems(inventory, 'inventory (from the cluster)'));
  if (problems.length > 0) throw new InputError(problems);
  return inventory;
}

/** Every inventory node must exist as a Node, with the same role. Returns the problems (empty when fine). */
export function checkInventoryAgainstCluster(inv: Inventory, nodes: NodeObservation[]): InputProblem[] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const problems: InputProblem[] = [];
  inv.nodes.forEach((node, i) => {
    const observed = byName.get(node.name);
    if (!observed) {
      problems.push({
        input: `inventory: nodes[${i}].name`,
        problem: `node "${node.name}" does not exist in the cluster`,
        fix: 'use the Node name exactly as kubectl get nodes shows it, or remove the entry',
      });
    } else if (observed.role !== node.role) {
      problems.push({
        input: `inventory: nodes[${i}].role`,
        problem: `node "${node.name}" is a ${node.role} in the inventory but a ${observed.role} in the cluster`,
        fix: `set role: ${observed.role}`,
      });
    }
  });
  return problems;
}
