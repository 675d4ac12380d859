// The simulator for tests: bring a cluster up, look at it, inject faults, take it down.
//
//   const cluster = await startCluster({ workers: 2 });
//   afterAll(() => cluster.stop());
//   // cluster.kubeconfigPath, cluster.inventoryPath, cluster.sshKeyPath, cluster.knownHostsPath
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterSpec } from './node/spec.ts';
import { accessPaths, jumpHostOf } from './cluster/access-files.ts';
import { downCluster, type DownReport } from './cluster/down.ts';
import { validateFaults, writeFaults, type FaultSpec } from './cluster/faults.ts';
import type { UpOptions } from './cluster/options.ts';
import { clusterStatus, type ClusterStatus } from './cluster/status.ts';
import { upCluster } from './cluster/up.ts';
import { userKubeconfig } from './lib/user-kubeconfig.ts';

export type { ClusterSpec, NodeState, SimNodeSpec } from './node/spec.ts';
export type { FaultSpec } from './cluster/faults.ts';
export type { UpOptions } from './cluster/options.ts';
export type { ClusterStatus, NodeStatus } from './cluster/status.ts';
export type { DownReport } from './cluster/down.ts';

export interface SimCluster {
  dir: string;
  spec: ClusterSpec;
  kubeconfigPath: string;
  inventoryPath: string;
  sshKeyPath: string;
  knownHostsPath: string;
  /** the nodes' login user ("root" unless loginUser) */
  user: string;
  /** with bastion: the Action's ssh-jump-host input, "ops@127.A.B.3:22" */
  jumpHost?: string;
  /** what `sim status` prints */
  status(): Promise<ClusterStatus>;
  /**
   * A kubeconfig for a non-admin user: a client certificate signed by the cluster CA (CN=user, O=groups),
   * written to DIR/users/USER.kubeconfig; returns that path. The API server authorizes it with RBAC.
   */
  userKubeconfig(user: string, groups?: string[]): Promise<string>;
  /** replaces the live faults (DIR/faults.json); [] clears them */
  setFaults(faults: FaultSpec[]): void;
  /**
   * Stops every process and checks nothing is left; throws if something is. Safe to call twice. A directory
   * startCluster made itself is removed afterwards (set SIM_KEEP=1 to keep it for its logs).
   */
  stop(): Promise<DownReport>;
}

/**
 * Brings a simulated kubeadm cluster up (in a new temporary directory unless options.dir is given) and resolves
 * once every node is Ready and reachable over SSH. Always call stop() (e.g. in afterAll).
 */
export async function startCluster(options: UpOptions = {}): Promise<SimCluster> {
  const temporary = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'sim-'));
  const spec = await upCluster({ ...options, dir }, process.env.SIM_VERBOSE ? (line) => console.error(`sim: ${line}`) : undefined);
  const access = accessPaths(spec.dir);
  const nodeNames = spec.nodes.map((n) => n.name);
  return {
    dir: spec.dir,
    spec,
    kubeconfigPath: access.kubeconfig,
    inventoryPath: access.inventory,
    sshKeyPath: access.sshKey,
    knownHostsPath: access.knownHosts,
    user: spec.login?.user ?? 'root',
    ...(spec.bastion ? { jumpHost: jumpHostOf(spec) } : {}),
    status: () => clusterStatus(spec.dir),
    async userKubeconfig(user, groups = []) {
      const outDir = join(spec.dir, 'users');
      const pki = join(spec.dir, 'pki');
      const text = await userKubeconfig({
        ca: { cert: join(pki, 'ca.crt'), key: join(pki, 'ca.key') },
        server: spec.apiServer.url,
        outDir,
        user,
        groups,
        clusterName: spec.name,
      });
      const path = join(outDir, `${user.replace(/[^A-Za-z0-9._-]/g, '_')}.kubeconfig`);
      writeFileSync(path, text, { mode: 0o600 });
      return path;
    },
    setFaults: (faults) => writeFaults(spec.dir, validateFaults(faults, nodeNames)),
    async stop() {
      const report = await downCluster(spec.dir);
      const { processes, mounts } = report.remaining;
      if (processes.length > 0 || mounts.length > 0) {
        throw new Error(`the cluster in ${spec.dir} did not stop cleanly: ${JSON.stringify(report.remaining)}`);
      }
      if (temporary && !process.env.SIM_KEEP) rmSync(spec.dir, { recursive: true, force: true });
      return report;
    },
  };
}
