// A kube-apiserver restart as clients meet it: with one control plane the listener is gone (connection
// refused, open connections reset) for the restart time and the objects are all there afterwards (the same
// etcd is behind it); with several, some new connections are reset while the others are answered.
import { request } from 'node:https';
import { afterEach, describe, expect, it } from 'vitest';
import { startStandaloneApiServer, type StandaloneApiServer } from '../../../sim/apiserver/standalone.ts';
import { createKubeClient, loadKubeconfig } from '../../../sim/lib/kube-rest.ts';
import { eventually } from './helpers.ts';

let server: StandaloneApiServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** One GET /version on a new connection: the status code, or the network error's code. */
function probe(s: StandaloneApiServer): Promise<string> {
  const url = new URL(s.url);
  return new Promise((resolve) => {
    const req = request({ host: url.hostname, port: url.port, path: '/version', ca: s.caPem, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(String(res.statusCode)));
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    req.end();
  });
}

describe('a kube-apiserver restart', () => {
  it('on a single control plane, refuses connections until it is back, with every object kept', async () => {
    server = await startStandaloneApiServer({ controlPlanes: 1 });
    const kube = createKubeClient(loadKubeconfig(server.kubeconfigPath));
    try {
      await kube.create('/api/v1/namespaces', { metadata: { name: 'kept' } });
      await kube.get('/api/v1/namespaces/kept'); // a keep-alive connection is open now
      server.server.restartKubeApiServer(1500);

      expect(await probe(server)).toBe('ECONNREFUSED');
      const cut = await kube.request('GET', '/api/v1/namespaces/kept').then(
        () => 'answered',
        (error: NodeJS.ErrnoException) => error.code ?? error.message,
      );
      expect(['ECONNREFUSED', 'ECONNRESET']).toContain(cut);

      await eventually(async () => (await probe(server!)) === '200', 'the API server back');
      expect((await kube.get('/api/v1/namespaces/kept')).metadata.name).toBe('kept');
    } finally {
      kube.close();
    }
  });

  it('of several control planes, resets a share of new connections and answers the others', async () => {
    server = await startStandaloneApiServer({ controlPlanes: 3 });
    server.server.restartKubeApiServer(5000);
    const answers: string[] = [];
    for (let i = 0; i < 6; i++) answers.push(await probe(server));
    expect(answers.filter((a) => a === '200').length).toBe(4);
    expect(answers.filter((a) => a !== '200').every((a) => a === 'ECONNRESET')).toBe(true);
  });

  it('shuts down cleanly while it is away, and does not listen again afterwards', async () => {
    const s = await startStandaloneApiServer({ controlPlanes: 1 });
    s.server.restartKubeApiServer(60_000);
    await s.close();
    expect(await probe(s)).toBe('ECONNREFUSED');
  });
});
