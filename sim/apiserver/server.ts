// The simulator's Kubernetes API server: HTTPS, client-certificate or bearer-token authentication,
// discovery, the resources of resources.ts with the real server's semantics, the controllers that
// make a cluster move (controllers/), faults, and /sim/status.
//
//   const server = await startApiServer({ host: '127.0.0.1', port: 0, tls: { cert, key, ca } });
//   … server.url …
//   await server.close();
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { bootstrap, createApiOnlyWorkers } from './bootstrap.ts';
import { ControllerLoop, type Delays } from './controllers/loop.ts';
import { BudgetTracker, disruptionController } from './controllers/disruption.ts';
import { daemonSetController } from './controllers/daemonset.ts';
import { deploymentController } from './controllers/deployment.ts';
import { garbageCollector, namespaceController } from './controllers/gc.ts';
import { jobController } from './controllers/job.ts';
import { kubeletController } from './controllers/kubelet.ts';
import { nodeLifecycleController } from './controllers/nodes.ts';
import { replicaSetController } from './controllers/replicaset.ts';
import { schedulerController } from './controllers/scheduler.ts';
import { coreVersions, group, groupList, resourceList, versionInfo } from './discovery.ts';
import { ApiError, pageNotFound, serviceUnavailable, unauthorized } from './errors.ts';
import { faultsFromFile, type ApiFaults } from './faults.ts';
import { ObjectApi } from './objects.ts';
import { openApiGroupVersion, openApiRoot } from './openapi.ts';
import { resources, resourceKey } from './resources.ts';
import { EtcdStorage } from './etcd-storage.ts';
import { EtcdClient, type EtcdTls } from '../lib/etcd-client.ts';
import { handleResource, parseResourcePath, type Reply, type ResourceRequest } from './routes.ts';
import { Store } from './store.ts';
import { ANONYMOUS, AUTHENTICATED, authorize, type UserInfo } from './rbac/authorizer.ts';
import { requestAttributes } from './rbac/attributes.ts';
import {
  bootstrapRbac,
  forbiddenError,
  REVIEW_PATHS,
  selfSubjectAccessReview,
  selfSubjectRulesReview,
  storeRbacSource,
} from './rbac/reviews.ts';

export interface ApiServerOptions {
  /** listen address, default 127.0.0.1 (loopback only) */
  host?: string;
  /** 0 = any free port */
  port?: number;
  /** PEM text or file paths: serving certificate and key, and the CA that signs client certificates */
  tls: { cert: string; key: string; ca: string };
  /** bearer tokens accepted besides client certificates; each authenticates as user "sim-token" in system:masters */
  tokens?: string[];
  /** faults file (FaultSpec[] as JSON or YAML), re-read when its mtime changes */
  faultsFile?: string;
  delays?: Partial<Delays> & { apiServerRestartMs?: number };
  /**
   * How many control planes (kube-apiservers) this one server stands for, default 1. When one of them
   * restarts (restartKubeApiServer), one refuses every connection; of several, a share of new connections
   * (every Nth) are reset and the others answer.
   */
  controlPlanes?: number;
  /** "1.30.5": /version answers v1.30.5 */
  clusterVersion?: string;
  /** Node objects api-worker-00001… (Ready, no machine behind them) with podsPerNode Running pods each */
  apiOnlyWorkers?: number;
  podsPerNode?: number;
  /** kubelet version of the api-only workers, default clusterVersion */
  apiOnlyWorkerVersion?: string;
  /** keep every object in this etcd cluster too (etcd-storage.ts); without it objects live in memory only */
  etcd?: { endpoints: string[]; tls: EtcdTls };
  /** log sink, default console.log with a timestamp */
  log?: (line: string) => void;
}

export interface RunningApiServer {
  /** "https://127.0.0.1:PORT" */
  url: string;
  port: number;
  store: Store;
  objects: ObjectApi;
  /**
   * A kube-apiserver restarts (its static pod manifest changed) and is away for durationMs (default
   * delays.apiServerRestartMs): with one control plane the listener closes and open connections are reset,
   * so clients meet "connection refused"; with N, every Nth new connection (and open one) is reset.
   * The objects stay: the same etcd is behind every kube-apiserver.
   */
  restartKubeApiServer(durationMs?: number): void;
  close(): Promise<void>;
}

const MAX_BODY = 3 * 1024 * 1024;
/** how long a write's answer waits for etcd before it goes out anyway (the write stays queued for etcd) */
const DURABLE_WAIT_MS = 10_000;

function pem(value: string): string {
  return value.includes('-----BEGIN') ? value : readFileSync(value, 'utf8');
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY)
        reject(
          new ApiError({
            kind: 'Status',
            apiVersion: 'v1',
            metadata: {},
            status: 'Failure',
            message: 'Request entity too large',
            reason: 'RequestEntityTooLarge',
            code: 413,
          }),
        );
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, reply: Reply): void {
  const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
  res.writeHead(reply.code, {
    'Content-Type': reply.contentType ?? 'application/json',
    'Cache-Control': 'no-cache, private',
    ...reply.headers,
  });
  res.end(text);
}

/** The answer of an api-error fault, worded as kube-apiserver (or, for 502, a load balancer in front of it) words it. */
function faultReply(fault: { status: number; message?: string; retryAfterSeconds?: number }): Reply {
  const headers = fault.retryAfterSeconds !== undefined ? { 'Retry-After': String(fault.retryAfterSeconds) } : undefined;
  if (fault.status === 502)
    return {
      code: 502,
      body: fault.message ?? '502 Bad Gateway\n',
      contentType: 'text/plain; charset=utf-8',
      ...(headers ? { headers } : {}),
    };
  const reasons: Record<number, [string, string]> = {
    403: ['Forbidden', 'forbidden: the request was refused'],
    429: ['TooManyRequests', 'Too many requests, please try again later.'],
    500: ['InternalError', 'Internal error occurred: the server could not complete the request'],
    503: ['ServiceUnavailable', 'the server is currently unable to handle the request'],
    504: ['Timeout', 'Timeout: request did not complete within the allotted timeout'],
  };
  const [reason, message] = reasons[fault.status] ?? ['', `the server answered ${fault.status}`];
  return {
    code: fault.status,
    body: {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: fault.message ?? message,
      ...(reason ? { reason } : {}),
      ...(fault.retryAfterSeconds !== undefined ? { details: { retryAfterSeconds: fault.retryAfterSeconds } } : {}),
      code: fault.status,
    },
    ...(headers ? { headers } : {}),
  };
}

function asList(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/**
 * Who sends the request: a client certificate signed by the cluster CA is user CN in groups O; a known
 * bearer token is "sim-token" in system:masters; no credentials is system:anonymous (kube-apiserver's
 * --anonymous-auth defaults to true); an unknown token is undefined (401).
 */
function authenticate(req: IncomingMessage, tokens: Set<string>): UserInfo | undefined {
  const socket = req.socket as TLSSocket;
  if (socket.authorized) {
    const subject = socket.getPeerCertificate().subject ?? {};
    return { name: asList(subject.CN)[0] ?? '', groups: [...asList(subject.O), AUTHENTICATED] };
  }
  const header = req.headers.authorization;
  if (header === undefined) return ANONYMOUS;
  const m = /^Bearer\s+(\S+)$/i.exec(header);
  return m !== null && tokens.has(m[1]!) ? { name: 'sim-token', groups: ['system:masters', AUTHENTICATED] } : undefined;
}

const publicPaths = new Set(['/version', '/healthz', '/livez', '/readyz']);

export async function startApiServer(options: ApiServerOptions): Promise<RunningApiServer> {
  const log = options.log ?? ((line: string) => console.log(`${new Date().toISOString()} ${line}`));
  const clusterVersion = options.clusterVersion ?? '1.30.5';
  const tls = { cert: pem(options.tls.cert), key: pem(options.tls.key), ca: pem(options.tls.ca) };
  const tokens = new Set(options.tokens ?? []);
  const faults: ApiFaults = faultsFromFile(options.faultsFile);
  const store = new Store();
  const objects = new ObjectApi(store, tls.ca);
  const tracker = new BudgetTracker();
  const loop = new ControllerLoop(
    objects,
    { podStartMs: options.delays?.podStartMs ?? 1000, podStopMs: options.delays?.podStopMs, podReadyMs: options.delays?.podReadyMs },
    log,
  );
  const ctx = loop.context;
  for (const c of [
    nodeLifecycleController(ctx),
    schedulerController(ctx),
    kubeletController(ctx),
    replicaSetController(ctx),
    deploymentController(ctx),
    daemonSetController(ctx),
    disruptionController(ctx, tracker),
    jobController(ctx),
    garbageCollector(ctx),
    namespaceController(ctx),
  ])
    loop.add(c);
  loop.start();
  bootstrap(objects);
  bootstrapRbac(objects);
  const rbac = storeRbacSource(store);
  if (options.apiOnlyWorkers) {
    const started = Date.now();
    createApiOnlyWorkers(objects, {
      count: options.apiOnlyWorkers,
      podsPerNode: options.podsPerNode ?? 0,
      version: options.apiOnlyWorkerVersion ?? clusterVersion,
    });
    log(`created ${options.apiOnlyWorkers} api-only workers with ${options.podsPerNode ?? 0} pods each in ${Date.now() - started} ms`);
  }

  const storage = options.etcd
    ? new EtcdStorage(store, new EtcdClient(options.etcd.endpoints, options.etcd.tls, 3000), { log })
    : undefined;
  const watchClosers = new Set<() => void>();
  let serverAddress = '';

  function simStatus(): Reply {
    const counts: Record<string, number> = {};
    for (const def of resources) counts[resourceKey(def.group, def.plural)] = store.count(def);
    return {
      code: 200,
      body: {
        clusterVersion,
        resourceVersion: String(store.currentRv()),
        counts,
        budgets: [...tracker.records.values()],
        ...(storage ? { etcd: storage.status() } : {}),
      },
    };
  }

  function route(req: IncomingMessage, res: ServerResponse, url: URL, raw: string): Reply | undefined {
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (path === '/version') return { code: 200, body: versionInfo(clusterVersion) };
    // as kube-apiserver's etcd readiness check: not ready while no etcd answers (or the cache is being rebuilt)
    if (path === '/readyz' && storage && !storage.ready())
      return { code: 500, body: '[-]etcd failed: reason withheld\nreadyz check failed\n', contentType: 'text/plain; charset=utf-8' };
    if (publicPaths.has(path)) return { code: 200, body: 'ok', contentType: 'text/plain; charset=utf-8' };
    if (path === '/api') return { code: 200, body: coreVersions(serverAddress) };
    if (path === '/apis') return { code: 200, body: groupList() };
    if (path === '/openapi/v3') return { code: 200, body: openApiRoot() };
    if (path.startsWith('/openapi/v3/')) {
      const doc = openApiGroupVersion(path.slice('/openapi/v3/'.length), clusterVersion);
      if (doc) return { code: 200, body: doc };
    }
    const segments = path.split('/').filter(Boolean);
    let request: ResourceRequest | undefined;
    if (segments[0] === 'api' && segments[1] === 'v1') {
      if (segments.length === 2) return { code: 200, body: resourceList('', 'v1') };
      request = parseResourcePath('', 'v1', segments.slice(2));
    } else if (segments[0] === 'apis' && segments.length >= 2) {
      if (segments.length === 2) {
        const g = group(segments[1]!);
        if (g) return { code: 200, body: g };
        throw pageNotFound();
      }
      if (segments.length === 3) {
        const list = resourceList(segments[1]!, segments[2]!);
        if (list) return { code: 200, body: list };
        throw pageNotFound();
      }
      request = parseResourcePath(segments[1]!, segments[2]!, segments.slice(3));
    }
    if (!request) {
      if (segments[0] === 'api' || segments[0] === 'apis' || segments[0] === 'openapi') throw pageNotFound();
      return { code: 404, body: '404 page not found\n', contentType: 'text/plain; charset=utf-8' };
    }
    return handleResource(
      {
        api: objects,
        eviction: { blockedByFault: (ns, name) => faults.pdbBlocked(ns, name) },
        onWatchClose: (fn) => {
          watchClosers.add(fn);
          return () => watchClosers.delete(fn);
        },
      },
      request,
      req,
      res,
      url,
      raw,
    );
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://apiserver');
    try {
      const isSim = url.pathname.startsWith('/sim/');
      if (!isSim && faults.apiUnavailable()) throw serviceUnavailable();
      const user = authenticate(req, tokens);
      if (!user) throw unauthorized();
      const raw = await readBody(req);
      const injected = isSim ? undefined : faults.requestFault(req.method ?? 'GET', url.pathname, raw);
      if (injected?.kind === 'reset') {
        // the TLS socket cannot send an RST itself (resetAndDestroy needs the TCP handle): cut it unanswered
        req.socket.destroy();
        return;
      }
      if (injected) return send(res, faultReply(injected));
      if (isSim) {
        if (user === ANONYMOUS) throw unauthorized();
        if (url.pathname === '/sim/status') return send(res, simStatus());
        throw pageNotFound();
      }
      const attributes = requestAttributes(req.method ?? 'GET', url);
      if (!authorize(rbac, user, attributes).allowed) throw forbiddenError(user, attributes);
      if (req.method === 'POST' && url.pathname === REVIEW_PATHS.access)
        return send(res, { code: 201, body: selfSubjectAccessReview(rbac, user, JSON.parse(raw || '{}')) });
      if (req.method === 'POST' && url.pathname === REVIEW_PATHS.rules)
        return send(res, { code: 201, body: selfSubjectRulesReview(rbac, user, JSON.parse(raw || '{}')) });
      const reply = route(req, res, url, raw);
      if (reply && storage && req.method !== 'GET' && !(await storage.durable(store.currentRv(), DURABLE_WAIT_MS)))
        log(`${req.method} ${url.pathname}: answered before etcd had the write (no etcd answered for ${DURABLE_WAIT_MS / 1000}s)`);
      if (reply) send(res, reply);
    } catch (error) {
      if (error instanceof ApiError) return send(res, { code: error.status.code, body: error.status });
      log(`${req.method} ${req.url}: ${(error as Error).stack ?? error}`);
      send(res, {
        code: 500,
        body: {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: String((error as Error).message),
          reason: 'InternalError',
          code: 500,
        },
      });
    }
  }

  const server: Server = createServer(
    { cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      void handle(req, res);
    },
  );
  server.keepAliveTimeout = 60_000;
  const sockets = new Set<Socket>();
  const controlPlanes = Math.max(1, options.controlPlanes ?? 1);
  /** HA restart: new connections until this time are reset, every `controlPlanes`th one */
  let resetUntil = 0;
  let connectionCount = 0;
  server.on('connection', (socket: Socket) => {
    if (Date.now() < resetUntil && connectionCount++ % controlPlanes === 0) {
      socket.resetAndDestroy();
      return;
    }
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('tlsClientError', () => {}); // a reset handshake is expected during a restart
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const host = options.host ?? '127.0.0.1';
  let closed = false;
  let awayUntil = 0;
  let comeBack: NodeJS.Timeout | undefined;

  function listenAgain(): void {
    comeBack = undefined;
    if (closed) return;
    const wait = awayUntil - Date.now();
    if (wait > 0) {
      comeBack = setTimeout(listenAgain, wait);
      return;
    }
    const failed = (error: Error) => log(`kube-apiserver could not listen again on ${host}:${port}: ${error.message}`);
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      log(`kube-apiserver is back: listening on ${host}:${port} again`);
    });
  }

  function restartKubeApiServer(durationMs = options.delays?.apiServerRestartMs ?? 0): void {
    if (closed || durationMs <= 0) return;
    if (controlPlanes === 1) {
      awayUntil = Math.max(awayUntil, Date.now() + durationMs);
      log(`kube-apiserver restarting: refusing connections for ${durationMs} ms`);
      if (server.listening) {
        server.close();
        for (const socket of sockets) socket.resetAndDestroy();
      }
      if (!comeBack) comeBack = setTimeout(listenAgain, awayUntil - Date.now());
      return;
    }
    resetUntil = Math.max(resetUntil, Date.now() + durationMs);
    log(`one of ${controlPlanes} kube-apiservers restarting: resetting every ${controlPlanes}th connection for ${durationMs} ms`);
    let i = 0;
    for (const socket of sockets) if (i++ % controlPlanes === 0) socket.resetAndDestroy();
  }
  serverAddress = `${host}:${port}`;
  const url = `https://${host}:${port}`;
  log(`API server v${clusterVersion} listening on ${url}`);

  return {
    url,
    port,
    store,
    objects,
    restartKubeApiServer,
    close: async () => {
      closed = true;
      if (comeBack) clearTimeout(comeBack);
      loop.close();
      await storage?.close();
      for (const close of [...watchClosers]) close();
      watchClosers.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
