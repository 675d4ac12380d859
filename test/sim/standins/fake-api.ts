// A minimal HTTPS Kubernetes API for the stand-in unit tests: objects stored by path (GET/PUT/POST),
// collections listed, /version, plus a "kubelet" that mirrors a node's static pod manifests as pods.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import YAML from 'yaml';
import { renderKubeconfig } from '../../../sim/lib/kube-rest.ts';
import { createCA, issueCert } from '../../../sim/lib/pki.ts';

export interface FakeApi {
  url: string;
  kubeconfig: string;
  objects: Map<string, any>;
  version: { gitVersion: string };
  /** every mutating request, "PUT /path" */
  writes: string[];
  close(): Promise<void>;
}

function status(code: number, message: string): object {
  return { kind: 'Status', apiVersion: 'v1', status: 'Failure', message, code, reason: code === 404 ? 'NotFound' : 'Invalid' };
}

function handle(api: FakeApi, method: string, path: string, body: any): [number, unknown] {
  if (path === '/version') return [200, api.version];
  if (method === 'GET') {
    const object = api.objects.get(path);
    if (object) return [200, object];
    const items = [...api.objects.entries()]
      .filter(([key]) => key.startsWith(`${path}/`) && !key.slice(path.length + 1).includes('/'))
      .map(([, v]) => v);
    if (items.length > 0 || path.endsWith('/nodes') || path.endsWith('/pods'))
      return [200, { kind: 'List', apiVersion: 'v1', metadata: {}, items }];
    return [404, status(404, `${path.split('/').at(-2)} "${path.split('/').at(-1)}" not found`)];
  }
  api.writes.push(`${method} ${path}`);
  if (method === 'PUT') {
    if (!api.objects.has(path)) return [404, status(404, 'not found')];
    api.objects.set(path, body);
    return [200, body];
  }
  if (method === 'POST') {
    const key = `${path}/${body?.metadata?.name}`;
    if (api.objects.has(key)) return [409, status(409, 'already exists')];
    api.objects.set(key, body);
    return [201, body];
  }
  return [405, status(405, 'method not allowed')];
}

export async function startFakeApi(dir: string): Promise<FakeApi> {
  const ca = await createCA(dir, 'ca', 'fake-ca');
  const server = await issueCert({ ca, outDir: dir, name: 'server', cn: 'kube-apiserver', ipAddresses: ['127.0.0.1'], usage: 'server' });
  const client = await issueCert({
    ca,
    outDir: dir,
    name: 'admin',
    cn: 'kubernetes-admin',
    organizations: ['system:masters'],
    usage: 'client',
  });
  const api: FakeApi = {
    url: '',
    kubeconfig: '',
    objects: new Map(),
    version: { gitVersion: 'v1.30.5' },
    writes: [],
    close: async () => {},
  };
  const https: Server = createServer({ key: await readFile(server.key), cert: await readFile(server.cert) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString();
      const [code, answer] = handle(api, req.method ?? 'GET', (req.url ?? '/').split('?')[0] ?? '/', text ? JSON.parse(text) : undefined);
      res.writeHead(code, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
  const address = https.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  api.url = `https://127.0.0.1:${port}`;
  api.kubeconfig = renderKubeconfig({
    server: api.url,
    caPem: readFileSync(ca.cert, 'utf8'),
    certPem: readFileSync(client.cert, 'utf8'),
    keyPem: readFileSync(client.key, 'utf8'),
  });
  api.close = () =>
    new Promise((resolve) => {
      https.closeAllConnections();
      https.close(() => resolve());
    });
  return api;
}

export function podPath(name: string): string {
  return `/api/v1/namespaces/kube-system/pods/${name}`;
}

/**
 * Plays the kubelet for static pods on one node: each manifest under ROOT/etc/kubernetes/manifests becomes a
 * mirror pod whose config hash is the manifest's hash. Components in `frozen` keep their old pod.
 */
export function syncMirrorPods(api: FakeApi, root: string, node: string, frozen: Set<string> = new Set()): void {
  const dir = join(root, 'etc/kubernetes/manifests');
  if (!existsSync(dir)) return;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
    const text = readFileSync(join(dir, file), 'utf8');
    const manifest = YAML.parse(text);
    const component = String(manifest.metadata.name);
    if (frozen.has(component) && api.objects.has(podPath(`${component}-${node}`))) continue;
    api.objects.set(podPath(`${component}-${node}`), {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `${component}-${node}`,
        namespace: 'kube-system',
        labels: manifest.metadata.labels,
        annotations: { 'kubernetes.io/config.hash': createHash('sha256').update(text).digest('hex').slice(0, 32) },
      },
      spec: { nodeName: node, containers: manifest.spec.containers },
      status: { phase: 'Running' },
    });
  }
}
