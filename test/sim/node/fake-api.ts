// A tiny stand-in for the Kubernetes API, enough to watch a simulated node's kubelet: Nodes and
// kube-system pods over HTTPS with client-certificate auth, in memory.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';

type KubeObject = {
  metadata: { name: string; uid?: string; [k: string]: unknown };
  status?: Record<string, unknown>;
  [k: string]: unknown;
};

export interface RecordedRequest {
  method: string;
  path: string;
  contentType?: string;
}

export interface FakeApi {
  url: string;
  nodes: Map<string, KubeObject>;
  pods: Map<string, KubeObject>;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

interface Condition {
  type: string;
  [k: string]: unknown;
}

/** Node status strategic merge: conditions merge by type, other fields are replaced. */
function mergeStatus(current: Record<string, unknown> = {}, patch: Record<string, unknown> = {}): Record<string, unknown> {
  const merged = { ...current, ...patch };
  if (Array.isArray(patch.conditions)) {
    const byType = new Map<string, Condition>(((current.conditions as Condition[] | undefined) ?? []).map((c) => [c.type, c]));
    for (const c of patch.conditions as Condition[]) byType.set(c.type, { ...byType.get(c.type), ...c });
    merged.conditions = [...byType.values()];
  }
  return merged;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

const notFound = (what: string) => ({ kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404, message: `${what} not found` });
const exists = (what: string) => ({
  kind: 'Status',
  status: 'Failure',
  reason: 'AlreadyExists',
  code: 409,
  message: `${what} already exists`,
});

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

function route(
  store: Map<string, KubeObject>,
  kind: string,
  name: string | undefined,
  sub: string | undefined,
  method: string,
  body: Record<string, unknown>,
  res: ServerResponse,
): void {
  const found = name ? store.get(name) : undefined;
  if (method === 'POST' && !name) {
    const object = body as KubeObject;
    if (store.has(object.metadata.name)) {
      send(res, 409, exists(`${kind} ${object.metadata.name}`));
      return;
    }
    object.metadata.uid = randomUUID();
    store.set(object.metadata.name, object);
    send(res, 201, object);
    return;
  }
  if (!name || !found) {
    send(res, 404, notFound(`${kind} ${name}`));
    return;
  }
  if (method === 'GET') {
    send(res, 200, found);
    return;
  }
  if (method === 'DELETE') {
    store.delete(name);
    send(res, 200, found);
    return;
  }
  if (method === 'PATCH' && sub === 'status') {
    found.status = mergeStatus(found.status, body.status as Record<string, unknown>);
    send(res, 200, found);
    return;
  }
  send(res, 405, { message: `${method} not supported here` });
}

export async function startFakeApi(address: string, port: number, pki: { ca: string; cert: string; key: string }): Promise<FakeApi> {
  const nodes = new Map<string, KubeObject>();
  const pods = new Map<string, KubeObject>();
  const requests: RecordedRequest[] = [];
  const server: Server = createServer(
    { ca: readFileSync(pki.ca), cert: readFileSync(pki.cert), key: readFileSync(pki.key), requestCert: true, rejectUnauthorized: true },
    (req, res) => {
      const path = (req.url ?? '').split('?')[0] ?? '';
      requests.push({ method: req.method ?? '', path, contentType: req.headers['content-type'] });
      readBody(req).then(
        (body) => {
          const node = /^\/api\/v1\/nodes(?:\/([^/]+))?(?:\/(status))?$/.exec(path);
          if (node) return route(nodes, 'node', node[1], node[2], req.method ?? '', body, res);
          const pod = /^\/api\/v1\/namespaces\/kube-system\/pods(?:\/([^/]+))?(?:\/(status))?$/.exec(path);
          if (pod) return route(pods, 'pod', pod[1], pod[2], req.method ?? '', body, res);
          send(res, 404, notFound(path));
        },
        (err: Error) => send(res, 400, { message: err.message }),
      );
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, resolve);
  });
  return {
    url: `https://${address}:${port}`,
    nodes,
    pods,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
