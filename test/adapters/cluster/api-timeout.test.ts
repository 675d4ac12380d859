// Every API call is bounded: an API server that accepts the connection (TLS handshake included) and never
// answers ends the Action's read in a clear error naming the request, instead of a hang. A tiny bound here;
// the real one is API_REQUEST_TIMEOUT_MS.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderKubeconfig } from '../../../sim/lib/kube-rest.ts';
import { createCA, issueCert } from '../../../sim/lib/pki.ts';
import { reviewAccess } from '../../../src/adapters/cluster/access-review.ts';
import { kubeConfigFromText, readCluster } from '../../../src/adapters/cluster/read-cluster.ts';
import { READ_CLUSTER_ACCESS } from '../../../src/adapters/cluster/read-cluster.ts';

const BOUND_MS = 300;

describe('a stalled API server', () => {
  let dir: string;
  let server: Server;
  let kubeconfig: string;
  let answerVersion = false;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stalled-api-'));
    const ca = await createCA(dir, 'ca', 'kubernetes');
    const serving = await issueCert({
      ca,
      outDir: dir,
      name: 'apiserver',
      cn: 'kube-apiserver',
      ipAddresses: ['127.0.0.1'],
      usage: 'server',
    });
    const client = await issueCert({ ca, outDir: dir, name: 'admin', cn: 'admin', organizations: ['system:masters'], usage: 'client' });
    // accepts every request and never answers it (except /version when asked to)
    server = createServer({ cert: await readFile(serving.cert), key: await readFile(serving.key) }, (req, res) => {
      if (answerVersion && req.url === '/version') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ major: '1', minor: '31', gitVersion: 'v1.31.2' }));
      }
    });
    server.on('connection', (s: Socket) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    kubeconfig = renderKubeconfig({
      server: `https://127.0.0.1:${port}`,
      caPem: await readFile(ca.cert, 'utf8'),
      certPem: await readFile(client.cert, 'utf8'),
      keyPem: await readFile(client.key, 'utf8'),
    });
  });

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  });

  it('ends the first read (GET /version) with an error naming the request and the bound', async () => {
    answerVersion = false;
    const state = await readCluster(kubeConfigFromText(kubeconfig, BOUND_MS));
    expect(state.apiReachable).toBe(false);
    expect(state.apiError).toMatch(
      /cannot reach the Kubernetes API at https:\/\/127\.0\.0\.1:\d+: the Kubernetes API did not answer GET https:\/\/127\.0\.0\.1:\d+\/version within 0\.3 s/,
    );
  });

  it('ends /readyz and the lists after a /version that answered, instead of hanging on them', async () => {
    answerVersion = true;
    const error = await readCluster(kubeConfigFromText(kubeconfig, BOUND_MS)).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(
      /^cannot (list|read) .*: the Kubernetes API did not answer GET https:\/\/127\.0\.0\.1:\d+\/\S+ within 0\.3 s$/,
    );
  });

  it('the preflight access review reports the server unreachable instead of hanging', async () => {
    answerVersion = false;
    const review = await reviewAccess(kubeConfigFromText(kubeconfig, BOUND_MS), READ_CLUSTER_ACCESS);
    expect(review).toEqual({
      reachable: false,
      error: expect.stringMatching(/did not answer POST .*selfsubjectaccessreviews within 0\.3 s/),
    });
  });
});
