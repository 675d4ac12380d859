// A tiny Kubernetes REST client over node:https for the simulator's own processes (stand-ins, node
// supervisors, the CLI). It loads fast (no @kubernetes/client-node) and speaks plain JSON.
//
//   const conn = loadKubeconfig('/tmp/c/kubeconfig');
//   const kube = createKubeClient(conn);
//   const node = await kube.get('/api/v1/nodes/worker-1');               // throws KubeApiError on >= 400
//   await kube.patch('/api/v1/nodes/worker-1', { spec: { unschedulable: true } }, 'strategic');
//   const res = await kube.request('GET', '/api/v1/pods', undefined, { query: { limit: 10 } }); // never throws on status
//   kube.close();
import { Agent, request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import YAML from 'yaml';

export interface KubeConnection {
  /** "https://127.1.2.1:6443" */
  server: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  token?: string;
  insecureSkipTlsVerify?: boolean;
}

export interface KubeResponse {
  status: number;
  /** parsed JSON when the body is JSON, else the text (empty string when there is no body) */
  body: any;
  headers: Record<string, string | string[] | undefined>;
}

export type PatchType = 'merge' | 'strategic' | 'json';

export interface RequestOptions {
  contentType?: string;
  accept?: string;
  query?: Record<string, string | number | boolean | undefined>;
  /** per-request timeout in ms, default 30 000 */
  timeoutMs?: number;
}

export const patchContentTypes: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
};

/** An API answer with status >= 400, carrying the Status object the server sent. */
export class KubeApiError extends Error {
  readonly status: number;
  readonly reason: string;
  readonly body: any;
  constructor(method: string, path: string, response: KubeResponse) {
    const body = response.body;
    const message = typeof body === 'object' && body && typeof body.message === 'string' ? body.message : String(body);
    super(`${method} ${path}: ${response.status} ${message}`);
    this.name = 'KubeApiError';
    this.status = response.status;
    this.reason = typeof body === 'object' && body ? String(body.reason ?? '') : '';
    this.body = body;
  }
}

function readData(entry: Record<string, any> | undefined, field: string, baseDir: string): Buffer | undefined {
  if (!entry) return undefined;
  const inline = entry[`${field}-data`];
  if (typeof inline === 'string') return Buffer.from(inline, 'base64');
  const file = entry[field];
  if (typeof file === 'string') return readFileSync(isAbsolute(file) ? file : resolve(baseDir, file));
  return undefined;
}

/** Reads a kubeconfig file (its current context): server, CA, client certificate/key or token. */
export function loadKubeconfig(path: string): KubeConnection {
  const config = YAML.parse(readFileSync(path, 'utf8')) as Record<string, any>;
  const contexts: any[] = config.contexts ?? [];
  const contextName = config['current-context'] ?? contexts[0]?.name;
  const context = contexts.find((c) => c.name === contextName)?.context;
  if (!context) throw new Error(`${path}: no context named ${JSON.stringify(contextName)}`);
  const cluster = (config.clusters ?? []).find((c: any) => c.name === context.cluster)?.cluster;
  if (!cluster?.server) throw new Error(`${path}: context ${contextName} names cluster ${context.cluster}, which has no server`);
  const user = (config.users ?? []).find((u: any) => u.name === context.user)?.user ?? {};
  const baseDir = dirname(path);
  return {
    server: String(cluster.server).replace(/\/+$/, ''),
    ca: readData(cluster, 'certificate-authority', baseDir),
    cert: readData(user, 'client-certificate', baseDir),
    key: readData(user, 'client-key', baseDir),
    token: typeof user.token === 'string' ? user.token : undefined,
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
  };
}

export interface KubeconfigParts {
  server: string;
  caPem: string;
  certPem?: string;
  keyPem?: string;
  /** instead of certPem/keyPem: the file holding the client certificate and the one holding its key (they may be one file) */
  certFile?: string;
  keyFile?: string;
  token?: string;
  /** names for the cluster, user and context entries, default "sim", "admin", "admin@sim" */
  clusterName?: string;
  userName?: string;
}

/** Renders a kubeconfig (inline base64 data, or the client certificate's files) that kubectl, client-node and loadKubeconfig all read. */
export function renderKubeconfig(parts: KubeconfigParts): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const clusterName = parts.clusterName ?? 'sim';
  const userName = parts.userName ?? 'admin';
  const user: Record<string, string> = {};
  if (parts.certPem) user['client-certificate-data'] = b64(parts.certPem);
  if (parts.keyPem) user['client-key-data'] = b64(parts.keyPem);
  if (parts.certFile) user['client-certificate'] = parts.certFile;
  if (parts.keyFile) user['client-key'] = parts.keyFile;
  if (parts.token) user.token = parts.token;
  const contextName = `${userName}@${clusterName}`;
  return YAML.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: clusterName, cluster: { server: parts.server, 'certificate-authority-data': b64(parts.caPem) } }],
    users: [{ name: userName, user }],
    contexts: [{ name: contextName, context: { cluster: clusterName, user: userName } }],
    'current-context': contextName,
    preferences: {},
  });
}

function withQuery(path: string, query: RequestOptions['query']): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const text = params.toString();
  if (!text) return path;
  return `${path}${path.includes('?') ? '&' : '?'}${text}`;
}

export interface KubeClient {
  readonly connection: KubeConnection;
  /** Sends one request; never throws on an HTTP status (only on network errors and timeouts). */
  request(method: string, path: string, body?: unknown, options?: RequestOptions): Promise<KubeResponse>;
  /** GET; throws KubeApiError on >= 400. */
  get(path: string, query?: RequestOptions['query']): Promise<any>;
  /** GET or null on 404. */
  getOrNull(path: string): Promise<any | null>;
  /** GET of a collection; returns the list object (items, metadata.continue). */
  list(path: string, query?: RequestOptions['query']): Promise<any>;
  /** POST; returns the created object. */
  create(path: string, body: unknown): Promise<any>;
  /** PUT; returns the stored object. */
  replace(path: string, body: unknown): Promise<any>;
  /** PATCH with the given patch type (default merge). */
  patch(path: string, body: unknown, type?: PatchType): Promise<any>;
  /** DELETE; returns the server's answer body (the object or a Status). */
  del(path: string, options?: { gracePeriodSeconds?: number; propagationPolicy?: string }): Promise<any>;
  close(): void;
}

/** Makes a client for one connection; keep-alive, so call close() when done. */
export function createKubeClient(connection: KubeConnection): KubeClient {
  const url = new URL(connection.server);
  const agent = new Agent({
    keepAlive: true,
    ca: connection.ca,
    cert: connection.cert,
    key: connection.key,
    rejectUnauthorized: !connection.insecureSkipTlsVerify,
  });

  function request(method: string, path: string, body?: unknown, options: RequestOptions = {}): Promise<KubeResponse> {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const headers: Record<string, string> = { Accept: options.accept ?? 'application/json' };
    if (payload !== undefined) {
      headers['Content-Type'] = options.contentType ?? 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    }
    if (connection.token) headers.Authorization = `Bearer ${connection.token}`;
    return new Promise((resolvePromise, reject) => {
      const req = httpsRequest(
        { agent, host: url.hostname, port: url.port || 443, method, path: withQuery(path, options.query), headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            if (text && /json/.test(String(res.headers['content-type'] ?? ''))) {
              try {
                parsed = JSON.parse(text);
              } catch {
                parsed = text;
              }
            }
            resolvePromise({ status: res.statusCode ?? 0, body: parsed, headers: res.headers });
          });
        },
      );
      req.setTimeout(options.timeoutMs ?? 30_000, () => req.destroy(new Error(`${method} ${path}: timed out`)));
      req.on('error', reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  async function ok(method: string, path: string, body?: unknown, options?: RequestOptions): Promise<any> {
    const res = await request(method, path, body, options);
    if (res.status >= 400) throw new KubeApiError(method, path, res);
    return res.body;
  }

  return {
    connection,
    request,
    get: (path, query) => ok('GET', path, undefined, { query }),
    async getOrNull(path) {
      const res = await request('GET', path);
      if (res.status === 404) return null;
      if (res.status >= 400) throw new KubeApiError('GET', path, res);
      return res.body;
    },
    list: (path, query) => ok('GET', path, undefined, { query }),
    create: (path, body) => ok('POST', path, body),
    replace: (path, body) => ok('PUT', path, body),
    patch: (path, body, type = 'merge') => ok('PATCH', path, body, { contentType: patchContentTypes[type] }),
    del: (path, options = {}) =>
      ok('DELETE', path, Object.keys(options).length ? { kind: 'DeleteOptions', apiVersion: 'v1', ...options } : undefined),
    close: () => agent.destroy(),
  };
}
