// The API server process of a simulated cluster: `node sim/apiserver/main.ts --dir DIR`.
// Reads DIR/cluster.json and DIR/pki, listens on apiServer.address:port, writes DIR/apiserver/pid,
// logs to stdout, and exits cleanly on SIGTERM / SIGINT.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startApiServer } from './server.ts';

interface ClusterSpecSubset {
  version: string;
  apiServer: { address: string; port: number };
  nodes?: { role: string; version: string; address: string }[];
  apiOnlyWorkers?: number;
  podsPerNode?: number;
  delays?: { podStartMs?: number; podStopMs?: number; podReadyMs?: number; apiServerRestartMs?: number };
}

/**
 * The control planes' etcd, with kube-apiserver's client certificate. Clusters with API-only workers (the
 * thousands-of-nodes benchmarks) keep their objects in memory only.
 */
function etcdOptions(dir: string, spec: ClusterSpecSubset) {
  const endpoints = (spec.nodes ?? []).filter((n) => n.role === 'control-plane').map((n) => `https://${n.address}:2379`);
  if (endpoints.length === 0 || (spec.apiOnlyWorkers ?? 0) > 0) return undefined;
  const pki = (name: string) => readFileSync(join(dir, 'pki', name), 'utf8');
  return { endpoints, tls: { ca: pki('etcd-ca.crt'), cert: pki('apiserver-etcd-client.crt'), key: pki('apiserver-etcd-client.key') } };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { dir: { type: 'string' } } });
  if (!values.dir) throw new Error('usage: main.ts --dir DIR (DIR/cluster.json and DIR/pki must exist)');
  const dir = values.dir;
  const spec = JSON.parse(readFileSync(join(dir, 'cluster.json'), 'utf8')) as ClusterSpecSubset;
  const worker = spec.nodes?.find((n) => n.role === 'worker');
  const server = await startApiServer({
    host: spec.apiServer.address,
    port: spec.apiServer.port,
    tls: { cert: join(dir, 'pki', 'apiserver.crt'), key: join(dir, 'pki', 'apiserver.key'), ca: join(dir, 'pki', 'ca.crt') },
    faultsFile: join(dir, 'faults.json'),
    delays: spec.delays,
    controlPlanes: spec.nodes?.filter((n) => n.role === 'control-plane').length ?? 1,
    clusterVersion: spec.version,
    apiOnlyWorkers: spec.apiOnlyWorkers ?? 0,
    podsPerNode: spec.podsPerNode ?? 0,
    apiOnlyWorkerVersion: worker?.version ?? spec.version,
    etcd: etcdOptions(dir, spec),
  });
  const pidFile = join(dir, 'apiserver', 'pid');
  mkdirSync(join(dir, 'apiserver'), { recursive: true });
  writeFileSync(pidFile, `${process.pid}\n`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${new Date().toISOString()} ${signal}: shutting down`);
    void server.close().finally(() => {
      rmSync(pidFile, { force: true });
      process.exit(0);
    });
  };
  // a node's kubelet restarted its kube-apiserver static pod (sim/node/static-pods.ts)
  process.on('SIGUSR2', () => server.restartKubeApiServer());
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  console.error(`apiserver: ${(error as Error).stack ?? error}`);
  process.exit(1);
});
