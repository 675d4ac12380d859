// Preflight verdicts: what kubeadm's own preflight and the upstream procedure require before an upgrade
// (API reachable, nodes Ready, control plane healthy, swap off), plus what this Action needs (packages
// published for every node's OS, disk room for backups, every node reachable over its transport, and the machine
// at every inventory address being the Node of that name).
import type { ClusterState, ControlPlaneComponent } from './cluster-state.ts';
import type { Inventory } from './inventory.ts';
import { nodeIdentityVerdict } from './node-identity.ts';
import type { PreflightVerdict, Severity, TargetResolution } from './plan-types.ts';
import { capNames, listText } from './util.ts';

/**
 * Every change runs as root: as the login user when it is root, else through `sudo -n` (no terminal, no password:
 * nobody is there to type one). A user whose sudo refuses is found by the probe, before anything changes.
 */
function rootAccess(state: ClusterState, inventory: Inventory): PreflightVerdict {
  const listed = new Set(inventory.nodes.map((n) => n.name));
  const refused = state.nodeReports.filter((r) => r.reachable && listed.has(r.name) && r.login?.sudoRefused !== undefined);
  const users = [...new Set(refused.map((r) => r.login?.user ?? ''))];
  const who = users.join(', ');
  const each = refused
    .slice(0, 5)
    .map((r) => `${r.name}: ${r.login?.user} (${r.login?.sudoRefused})`)
    .join('; ');
  return check(
    'root-access',
    refused.map((r) => r.name),
    'mandatory',
    `${refused.length} node(s) where the login user cannot run commands as root with \`sudo -n\` (no terminal, no password): ${each}${refused.length > 5 ? '; …' : ''}. ` +
      `Fix: give ${who} passwordless sudo on those nodes, e.g. a file /etc/sudoers.d/${users[0] ?? 'USER'} (mode 0440) with "${users[0] ?? 'USER'} ALL=(ALL:ALL) NOPASSWD: ALL" ` +
      `and, where sudoers sets requiretty, "Defaults:${users[0] ?? 'USER'} !requiretty"; or log in as root (the node's user in the inventory, or ssh-user)`,
    'the login user runs commands as root on every readable node (root, or passwordless sudo)',
  );
}

/** Free space wanted under /var/lib/etcd (control planes) and /etc/kubernetes for the backups an upgrade takes. */
export const MIN_FREE_BYTES = 1024 ** 3;

function check(id: string, failed: string[], severity: Severity, failMessage: string, okMessage: string): PreflightVerdict {
  return failed.length > 0
    ? { id, severity, message: failMessage, ...capNames(failed) }
    : { id, severity: 'ok', message: okMessage, ...capNames([]) };
}

export function preflightVerdicts(state: ClusterState, inventory: Inventory, target: TargetResolution): PreflightVerdict[] {
  const out: PreflightVerdict[] = [];
  out.push(
    check(
      'api-reachable',
      state.apiReachable ? [] : ['(api)'],
      'mandatory',
      `the Kubernetes API is not reachable with the kubeconfig given${state.apiError ? `: ${state.apiError}` : ''}`,
      'the Kubernetes API answers',
    ),
  );
  out.push(check('readyz', state.readyz ? [] : ['(api)'], 'mandatory', 'the API server /readyz is not ok', 'the API server /readyz is ok'));

  const notReady = state.nodes.filter((n) => !n.ready).map((n) => n.name);
  out.push(
    check(
      'nodes-ready',
      notReady,
      'mandatory',
      `${notReady.length} node(s) not Ready: ${listText(notReady)}`,
      `all ${state.nodes.length} node(s) Ready`,
    ),
  );

  out.push(controlPlaneHealth(state));

  const reports = new Map(state.nodeReports.map((r) => [r.name, r]));
  const unreachable = inventory.nodes.filter((n) => !reports.get(n.name)?.reachable);
  const reasons = unreachable.slice(0, 3).map((n) => `${n.name}: ${reports.get(n.name)?.error ?? 'not probed'}`);
  out.push(
    check(
      'nodes-reachable',
      unreachable.map((n) => n.name),
      'mandatory',
      `${unreachable.length} node(s) not reachable over their transport (${reasons.join('; ')})`,
      `all ${inventory.nodes.length} inventory node(s) reachable`,
    ),
  );

  const swap = state.nodeReports.filter((r) => r.reachable && r.swapOn).map((r) => r.name);
  out.push(
    check(
      'swap-off',
      swap,
      'mandatory',
      `swap is on on ${listText(swap)}: the kubelet refuses to start with swap unless configured for it; turn it off (swapoff -a and /etc/fstab)`,
      'swap is off on every readable node',
    ),
  );

  out.push(rootAccess(state, inventory));
  if (inventory.nodes.some((n) => reports.get(n.name)?.identity)) out.push(nodeIdentityVerdict(state, inventory));
  out.push(packagesPublished(target));
  out.push(diskRoom(state, inventory));

  const listed = new Set(inventory.nodes.map((n) => n.name));
  const notListed = state.nodes.filter((n) => !listed.has(n.name));
  if (notListed.length > 0) {
    out.push({
      id: 'nodes-not-in-inventory',
      severity: 'warning',
      message: `${notListed.length} cluster node(s) are not in the inventory and would not be upgraded: ${listText(notListed.map((n) => n.name))}`,
      ...capNames(notListed.map((n) => n.name)),
    });
  }
  return out;
}

function controlPlaneHealth(state: ClusterState): PreflightVerdict {
  const components: ControlPlaneComponent[] = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'];
  if (state.kubeadmConfig?.etcdLocal !== false) components.push('etcd');
  const problems: string[] = [];
  const nodes: string[] = [];
  const controlPlanes = state.nodes.filter((n) => n.role === 'control-plane');
  for (const cp of controlPlanes) {
    const bad = components.filter((c) => {
      const pod = state.controlPlanePods.find((p) => p.node === cp.name && p.component === c);
      return !pod?.running || !pod.ready;
    });
    if (bad.length > 0) {
      nodes.push(cp.name);
      if (problems.length < 5) problems.push(`${cp.name}: ${bad.join(', ')}`);
    }
  }
  if (controlPlanes.length === 0) problems.push('no control-plane node found in the cluster');
  return problems.length > 0
    ? {
        id: 'control-plane-healthy',
        severity: 'mandatory',
        message: `control-plane static pods not Running and Ready (${problems.join('; ')})`,
        ...capNames(nodes),
      }
    : {
        id: 'control-plane-healthy',
        severity: 'ok',
        message: `every control plane runs ${components.join(', ')} (Running, Ready)`,
        ...capNames([]),
      };
}

function packagesPublished(target: TargetResolution): PreflightVerdict {
  if (!target.version)
    return {
      id: 'packages-published',
      severity: 'mandatory',
      message: target.reason ?? 'the target version could not be resolved',
      ...target.unreadable,
    };
  if (target.unreadable.nodeCount > 0) {
    return {
      id: 'packages-published',
      severity: 'warning',
      message: `${target.version} not verified as published on ${target.unreadable.nodeCount} node(s) that could not list packages: ${listText(target.unreadable.nodes)}`,
      ...target.unreadable,
    };
  }
  return { id: 'packages-published', severity: 'ok', message: `${target.version} is published for every node's OS`, ...capNames([]) };
}

function diskRoom(state: ClusterState, inventory: Inventory): PreflightVerdict {
  const roles = new Map(inventory.nodes.map((n) => [n.name, n.role]));
  const low: string[] = [];
  const unknown: string[] = [];
  const gib = (b: number) => `${(b / 1024 ** 3).toFixed(1)} GiB`;
  const details: string[] = [];
  for (const r of state.nodeReports) {
    if (!r.reachable || !roles.has(r.name)) continue;
    const wanted: [string, number | undefined][] = [['/etc/kubernetes', r.freeBytes.kubernetes]];
    if (roles.get(r.name) === 'control-plane') wanted.push(['/var/lib/etcd', r.freeBytes.etcd]);
    for (const [dir, free] of wanted) {
      if (free === undefined) unknown.push(r.name);
      else if (free < MIN_FREE_BYTES) {
        low.push(r.name);
        if (details.length < 5) details.push(`${r.name} ${dir} ${gib(free)}`);
      }
    }
  }
  if (low.length > 0)
    return {
      id: 'disk-room',
      severity: 'mandatory',
      message: `less than ${gib(MIN_FREE_BYTES)} free for backups (${details.join('; ')})`,
      ...capNames([...new Set(low)]),
    };
  if (unknown.length > 0)
    return {
      id: 'disk-room',
      severity: 'warning',
      message: `free space unknown on ${listText([...new Set(unknown)])}`,
      ...capNames([...new Set(unknown)]),
    };
  return {
    id: 'disk-room',
    severity: 'ok',
    message: `at least ${gib(MIN_FREE_BYTES)} free under /etc/kubernetes (and /var/lib/etcd on control planes) everywhere`,
    ...capNames([]),
  };
}
