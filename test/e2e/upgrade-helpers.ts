// Shared by the upgrade end-to-end tests: inputs for a simulated cluster, reading the nodes' command logs and
// annotations, and the action's log groups.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SimCluster } from '../../sim/index.ts';

export interface LoggedCommand {
  time: string;
  tool: string;
  argv: string[];
  exit: number;
}

export function upgradeInputs(cluster: SimCluster, extra: Record<string, string> = {}): Record<string, string> {
  return {
    command: 'upgrade',
    'target-version': '1.31',
    inventory: readFileSync(cluster.inventoryPath, 'utf8'),
    kubeconfig: readFileSync(cluster.kubeconfigPath, 'utf8'),
    'ssh-private-key': readFileSync(cluster.sshKeyPath, 'utf8'),
    'ssh-known-hosts': readFileSync(cluster.knownHostsPath, 'utf8'),
    'max-unavailable': '2',
    'drain-grace-period': '1',
    'drain-timeout': '2m',
    ...extra,
  };
}

export function commandLog(cluster: SimCluster, node: string): LoggedCommand[] {
  const text = readFileSync(join(cluster.dir, 'nodes', node, 'commands.log'), 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as LoggedCommand)
    .filter((c) => typeof c.tool === 'string');
}

/** Commands that change a node (as opposed to the plan's read-only probes). */
export function changingCommands(entries: LoggedCommand[]): string[] {
  return entries
    .map((e) => [e.tool, ...e.argv].join(' '))
    .filter((line) =>
      /^(kubeadm upgrade (apply|node)|apt-get install|(yum|dnf) install|apt-mark (hold|unhold)|systemctl restart|tee )/.test(line),
    );
}

/** The action's `::group::TITLE` … `::endgroup::` blocks from its stdout. */
export function logGroups(stdout: string): { title: string; lines: string[] }[] {
  const groups: { title: string; lines: string[] }[] = [];
  let current: { title: string; lines: string[] } | undefined;
  for (const line of stdout.split('\n')) {
    if (line.startsWith('::group::')) {
      current = { title: line.slice('::group::'.length), lines: [] };
      groups.push(current);
    } else if (line.startsWith('::endgroup::')) current = undefined;
    else current?.lines.push(line);
  }
  return groups;
}

export interface BudgetRecord {
  namespace: string;
  name: string;
  desiredHealthy: number;
  lowestReady: number;
}

export function budgets(workloads: unknown): BudgetRecord[] {
  return (workloads as { budgets?: BudgetRecord[] } | null)?.budgets ?? [];
}
