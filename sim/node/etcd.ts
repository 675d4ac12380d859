// The node's etcd, run the way its static pod manifest (etcd.yaml) says, with Debian's etcd 3.4.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { keepChildRunning, type KeptChild } from './child.ts';

const ETCD_BINARY = '/usr/bin/etcd';
const LISTEN_FLAGS = new Set(['listen-client-urls', 'listen-peer-urls', 'listen-metrics-urls']);

interface ManifestContainer {
  name?: string;
  command?: string[];
  args?: string[];
}
export interface StaticPodManifest {
  metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: { containers?: ManifestContainer[]; [key: string]: unknown };
}

let knownFlagsCache: Set<string> | undefined;

/** The flags this etcd binary accepts, from its --help (kubeadm writes some only newer etcds know). */
export function knownEtcdFlags(): Set<string> {
  if (!knownFlagsCache) {
    const help = spawnSync(ETCD_BINARY, ['--help'], { encoding: 'utf8' });
    const text = `${help.stdout ?? ''}\n${help.stderr ?? ''}`;
    knownFlagsCache = new Set([...text.matchAll(/^\s*--([a-z0-9-]+)/gm)].map((m) => m[1] ?? ''));
    if (knownFlagsCache.size < 20) throw new Error(`cannot read the flags of ${ETCD_BINARY} from its --help`);
  }
  return knownFlagsCache;
}

function isLoopbackUrl(url: string): boolean {
  return /^\w+:\/\/(127\.0\.0\.1|localhost|\[::1\])(:|\/|$)/.test(url);
}

/**
 * Every node shares the host's network namespace, so 127.0.0.1:2379 can belong to one etcd only:
 * loopback listen URLs are dropped, or moved to the node's address when nothing else is left.
 */
function localizeListenUrls(value: string, address: string): string {
  const urls = value.split(',').filter(Boolean);
  const own = urls.filter((u) => !isLoopbackUrl(u));
  if (own.length > 0) return own.join(',');
  return urls.map((u) => u.replace(/^(\w+:\/\/)[^:/]+/, `$1${address}`)).join(',');
}

export interface EtcdCommandLine {
  args: string[];
  dropped: string[];
}

/** etcd's arguments from the manifest's etcd container command + args. */
export function etcdArgsFromManifest(manifest: StaticPodManifest, address: string, known = knownEtcdFlags()): EtcdCommandLine {
  const containers = manifest.spec?.containers ?? [];
  const container = containers.find((c) => c.name === 'etcd') ?? containers[0];
  const words = [...(container?.command ?? []), ...(container?.args ?? [])];
  if (words.length === 0) throw new Error('the etcd manifest has no container command');
  const args: string[] = [];
  const dropped: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i] ?? '';
    if (!word.startsWith('-')) continue; // the program name ("etcd")
    const body = word.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    let value: string | undefined = eq >= 0 ? body.slice(eq + 1) : undefined;
    const next = words[i + 1];
    if (value === undefined && next !== undefined && !next.startsWith('-')) {
      value = next;
      i++;
    }
    if (!known.has(name)) {
      dropped.push(name);
      continue;
    }
    if (value !== undefined && LISTEN_FLAGS.has(name)) value = localizeListenUrls(value, address);
    args.push(value === undefined ? `--${name}` : `--${name}=${value}`);
  }
  // `up` joins the members one right after the other; a real join waits until the cluster has been fully
  // connected for etcd's 5 s health interval (kubeadm retries the member add until then)
  if (known.has('strict-reconfig-check') && !args.some((a) => a.startsWith('--strict-reconfig-check')))
    args.push('--strict-reconfig-check=false');
  return { args, dropped };
}

export function contentHash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export interface EtcdRunner {
  /** Runs etcd as this manifest says (restarting it if the manifest changed); undefined stops it. */
  apply(manifest: { text: string; parsed: StaticPodManifest } | undefined): Promise<void>;
  stop(): Promise<void>;
  pid(): number | undefined;
}

export function createEtcdRunner(address: string, logFile: string, log: (line: string) => void): EtcdRunner {
  let running: { hash: string; child: KeptChild } | undefined;
  let queue: Promise<void> = Promise.resolve();

  const stopRunning = async (): Promise<void> => {
    const current = running;
    running = undefined;
    if (current) await current.child.stop();
  };

  const applyNow = async (manifest: { text: string; parsed: StaticPodManifest } | undefined): Promise<void> => {
    if (!manifest) return stopRunning();
    const hash = contentHash(manifest.text);
    if (running?.hash === hash) return;
    const { args, dropped } = etcdArgsFromManifest(manifest.parsed, address);
    if (dropped.length > 0) log(`etcd: dropping flags etcd 3.4 does not know: ${dropped.join(', ')}`);
    await stopRunning();
    running = { hash, child: keepChildRunning({ name: 'etcd', file: ETCD_BINARY, args, logFile, log }) };
  };

  // manifest changes arrive from a poller: apply them one at a time, in order
  const enqueue = (work: () => Promise<void>): Promise<void> => {
    queue = queue.then(work, work);
    return queue;
  };
  return {
    apply: (manifest) => enqueue(() => applyNow(manifest)),
    stop: () => enqueue(stopRunning),
    pid: () => running?.child.pid(),
  };
}
