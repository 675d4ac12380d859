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

/**
 * Every command line sshd received on the node, in order (the real apt-get, dnf, … run there, not as stand-ins,
 * so only the SSH layer sees them).
 */
export function sshCommands(cluster: SimCluster, node: string): string[] {
  const text = readFileSync(join(cluster.dir, 'nodes', node, 'commands.log'), 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { via?: string; command?: string })
    .filter((e) => e.via === 'ssh' && typeof e.command === 'string')
    .map((e) => e.command as string);
}

/** One line of a node's commands.log: a command sshd received, or a stand-in's own run (kubeadm, systemctl, …). */
export interface NodeLogLine {
  time: string;
  line: string;
}

/** Every command the node saw, SSH commands and stand-in runs, in order. */
export function nodeLog(cluster: SimCluster, node: string): NodeLogLine[] {
  const text = readFileSync(join(cluster.dir, 'nodes', node, 'commands.log'), 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((raw) => JSON.parse(raw) as { time: string; tool?: string; argv?: string[]; command?: string })
    .map((e) => ({ time: e.time, line: e.command ?? [e.tool ?? '', ...(e.argv ?? [])].join(' ') }));
}

const CHANGING =
  /(^|\s)(kubeadm upgrade (apply|node)|apt-get install|(yum|dnf) (install|downgrade)|apt-mark( -o \S+)* (hold|unhold)|(yum|dnf)( --setopt=\S+)* versionlock (add|delete)|systemctl restart|sed -i|tee )/;

/** Commands that change a node (as opposed to the plan's read-only probes). */
export function changingCommands(entries: NodeLogLine[]): string[] {
  return entries.map((e) => e.line).filter((line) => CHANGING.test(line));
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

/** Calls `act` once when the step's log first shows `line` (the log arrives in chunks: lines are joined first). */
export function onLogLine(triggers: { line: string; act: () => void }[]): (chunk: string) => void {
  let seen = '';
  const done = new Set<string>();
  return (chunk) => {
    seen += chunk;
    for (const t of triggers) {
      if (!done.has(t.line) && seen.includes(t.line)) {
        done.add(t.line);
        t.act();
      }
    }
  };
}
