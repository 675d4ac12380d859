// One simulated node: its own /etc and /var, a real sshd, etcd on control planes, and the
// kubelet's side of the API (Node status, mirror pods). Started by `sim up` as
//   unshare --mount --propagation private <node24> sim/node/supervisor.ts --dir DIR --node NAME
// SIGHUP = kubelet restarted; SIGTERM = shut the node down (nothing of it survives).
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KeptChild } from './child.ts';
import { createEtcdRunner, type EtcdRunner } from './etcd.ts';
import { kubeRequester, readKubeconfig, type KubeRequest } from './kube-client.ts';
import { createKubelet, type Kubelet } from './kubelet.ts';
import { mountNodeView, processesInMyNamespace, signalAll } from './namespace.ts';
import { findNodeSpec, nodePaths, readClusterSpec, type NodePaths, type SimNodeSpec } from './spec.ts';
import { startSshd } from './sshd.ts';
import { createStaticPods, type StaticPods } from './static-pods.ts';

const MANIFEST_POLL_MS = 300;
const KILL_AFTER_MS = 3000;

function log(line: string): void {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`);
}

/** Repeated failures (API down for a while) are logged once until something changes. */
function onceInARow(): (line: string) => void {
  let last = '';
  return (line) => {
    if (line !== last && line !== '') log(line);
    last = line;
  };
}

function parseArgs(argv: string[]): { dir: string; node: string } {
  const value = (flag: string): string | undefined => {
    const at = argv.indexOf(flag);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  const dir = value('--dir');
  const node = value('--node');
  if (!dir || !node) throw new Error('usage: supervisor.ts --dir DIR --node NAME');
  return { dir: resolve(dir), node };
}

/** The kubelet's credentials: kubelet.conf, or admin.conf on a control plane without one. Read when first needed. */
function lazyRequester(paths: NodePaths, node: SimNodeSpec): { request: KubeRequest; reload: () => void } {
  let current: KubeRequest | undefined;
  const candidates = [join(paths.upperEtc, 'kubernetes/kubelet.conf')];
  if (node.role === 'control-plane') candidates.push(join(paths.upperEtc, 'kubernetes/admin.conf'));
  const load = (): KubeRequest => {
    const file = candidates.find((f) => existsSync(f));
    if (!file) throw new Error(`no kubeconfig for the kubelet: looked for ${candidates.join(', ')}`);
    current = kubeRequester(readKubeconfig(file));
    log(`using kubeconfig ${file}`);
    return current;
  };
  return {
    request: (...args) => (current ?? load())(...args),
    reload: () => {
      current = undefined;
    },
  };
}

/** Runs `work` every `everyMs`, never two at a time, until stopped. */
function repeat(everyMs: number, work: () => Promise<void>): { stop: () => void } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async (): Promise<void> => {
    await work();
    if (!stopped) timer = setTimeout(() => void tick(), everyMs);
  };
  void tick();
  return {
    stop: () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}

/**
 * The kubelet restarts kube-apiserver for a changed manifest: the one simulated API server (which stands
 * for every control plane's) is told by SIGUSR2 and stays away for delays.apiServerRestartMs; resolves then.
 */
async function restartApiServer(dir: string, awayMs: number): Promise<void> {
  if (awayMs <= 0) return;
  try {
    const pid = Number(readFileSync(join(dir, 'apiserver', 'pid'), 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 1) throw new Error(`bad pid file`);
    process.kill(pid, 'SIGUSR2');
  } catch (err) {
    log(`cannot restart the API server: ${(err as Error).message}`);
    return;
  }
  await sleep(awayMs);
}

/** Stops etcd and sshd, then whatever ssh sessions left running in this namespace. */
async function shutDown(children: (KeptChild | EtcdRunner | undefined)[]): Promise<void> {
  await Promise.all(children.map((c) => c?.stop()));
  let left = processesInMyNamespace();
  signalAll(left, 'SIGTERM');
  const deadline = Date.now() + KILL_AFTER_MS;
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(100);
    left = processesInMyNamespace();
  }
  signalAll(left, 'SIGKILL');
  if (left.length > 0) log(`killed leftover processes: ${left.join(' ')}`);
}

function main(): void {
  const { dir, node: nodeName } = parseArgs(process.argv.slice(2));
  const cluster = readClusterSpec(dir);
  const node = findNodeSpec(cluster, nodeName);
  const paths = nodePaths(dir, node.name);

  rmSync(paths.pidFile, { force: true }); // a previous run's pid means nothing now
  mountNodeView(dir, paths);
  log(`node ${node.name} (${node.role}, ${node.address}) mounted; supervisor pid ${process.pid}`);

  const sshd = startSshd(cluster, node, paths, log);
  const api = lazyRequester(paths, node);
  const kubelet: Kubelet = createKubelet({ cluster, node, paths, request: api.request, log });
  const etcd = node.role === 'control-plane' ? createEtcdRunner(node.address, paths.etcdLog, log) : undefined;
  const staticPods: StaticPods | undefined = etcd
    ? createStaticPods({
        node,
        request: api.request,
        nodeUid: kubelet.nodeUid,
        etcd,
        log,
        verifyEveryMs: cluster.delays.heartbeatMs,
        restartApiServer: () => restartApiServer(dir, cluster.delays.apiServerRestartMs ?? 0),
      })
    : undefined;

  const heartbeatLog = onceInARow();
  const heartbeats = repeat(cluster.delays.heartbeatMs, () =>
    kubelet.heartbeat().then(
      () => heartbeatLog(''),
      (err: Error) => heartbeatLog(`status report failed: ${err.message}`),
    ),
  );
  const podLog = onceInARow();
  const manifests = staticPods
    ? repeat(MANIFEST_POLL_MS, () =>
        staticPods.sync().then(
          () => podLog(''),
          (err: Error) => podLog(`static pods: ${err.message}`),
        ),
      )
    : undefined;

  process.on('SIGHUP', () => {
    try {
      api.reload(); // kubeadm upgrade may have rewritten kubelet.conf
      kubelet.restart();
    } catch (err) {
      log(`kubelet restart failed: ${(err as Error).message}`);
    }
  });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping node ${node.name}`);
    heartbeats.stop();
    manifests?.stop();
    shutDown([etcd, sshd]).then(
      () => {
        log('stopped');
        process.exit(0);
      },
      (err: Error) => {
        log(`shutdown failed: ${err.message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // only now: whoever reads the pid file may signal us, and the handlers are in place
  writeFileSync(paths.pidFile, `${process.pid}\n`);
}

try {
  main();
} catch (err) {
  log(`supervisor failed: ${(err as Error).message}`);
  // children started before the failure die with us (parent-death signal)
  process.exit(1);
}
