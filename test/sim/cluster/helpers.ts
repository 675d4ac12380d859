// Small helpers the simulator's integration tests share: ssh and kubectl the way a person runs them.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(file: string, args: string[], timeoutMs = 30_000, env = process.env): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, encoding: 'utf8', env }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** ssh with strict host-key checking against the cluster's known_hosts and no prompts. */
export function ssh(key: string, knownHosts: string, address: string, command: string): Promise<Ran> {
  return run('ssh', [
    '-i',
    key,
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `UserKnownHostsFile=${knownHosts}`,
    '-o',
    'BatchMode=yes',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'ConnectTimeout=10',
    `root@${address}`,
    command,
  ]);
}

export function kubectl(kubeconfig: string, ...args: string[]): Promise<Ran> {
  return run('/usr/bin/kubectl', ['--kubeconfig', kubeconfig, ...args]);
}

/** `kubectl get` table output → one record per row, keyed by the header's column names. */
export function parseTable(text: string): Record<string, string>[] {
  const [header = '', ...rows] = text.trim().split('\n');
  const columns = header.trim().split(/\s{2,}/);
  return rows.map((row) => {
    const cells = row.trim().split(/\s{2,}/);
    return Object.fromEntries(columns.map((c, i) => [c, cells[i] ?? '']));
  });
}

/** Independent of `down`'s own check: processes whose command line or mount table names DIR. */
export function traces(dir: string): { processes: string[]; mounts: string[] } {
  const processes: string[] = [];
  const mounts: string[] = [];
  const seen = new Set<string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
      if (cmdline.includes(`${dir}/`) || cmdline.includes(`--dir ${dir}`)) processes.push(`${entry}: ${cmdline}`);
      const ns = readlinkSync(`/proc/${entry}/ns/mnt`);
      if (seen.has(ns)) continue;
      seen.add(ns);
      mounts.push(
        ...readFileSync(`/proc/${entry}/mountinfo`, 'utf8')
          .split('\n')
          .filter((l) => l.includes(`${dir}/`)),
      );
    } catch {
      // exited meanwhile
    }
  }
  return { processes, mounts };
}
