// A local stand-in of the GitHub Actions artifact service that @actions/artifact (v2+) talks to: the twirp
// ArtifactService (CreateArtifact, FinalizeArtifact) and the blob storage it hands out a signed URL for
// (block upload: Put Block + Put Block List). Listens on 127.0.0.1; keeps the uploaded bytes in memory.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StoredArtifact {
  name: string;
  expiresAt?: string;
  finalized: boolean;
  bytes: Buffer;
}

export interface ArtifactServiceStandIn {
  url: string;
  artifacts: Map<string, StoredArtifact>;
  /** environment variables that point @actions/artifact here */
  env: Record<string, string>;
  close(): Promise<void>;
}

function body(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function unsignedJwt(claims: object): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
}

export async function startArtifactService(): Promise<ArtifactServiceStandIn> {
  const artifacts = new Map<string, StoredArtifact>();
  const blocks = new Map<string, Buffer>();
  let nextId = 1;
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const data = await body(req);
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    if (req.method === 'POST' && url.pathname === '/twirp/github.actions.results.api.v1.ArtifactService/CreateArtifact') {
      const request = JSON.parse(data.toString()) as { name: string; expires_at?: string };
      artifacts.set(request.name, {
        name: request.name,
        ...(request.expires_at ? { expiresAt: request.expires_at } : {}),
        finalized: false,
        bytes: Buffer.alloc(0),
      });
      return json(200, { ok: true, signed_upload_url: `${address}/blob/${encodeURIComponent(request.name)}?sig=stand-in` });
    }
    if (req.method === 'POST' && url.pathname === '/twirp/github.actions.results.api.v1.ArtifactService/FinalizeArtifact') {
      const request = JSON.parse(data.toString()) as { name: string };
      const artifact = artifacts.get(request.name);
      if (!artifact) return json(404, { code: 'not_found', msg: 'no such artifact' });
      artifact.finalized = true;
      return json(200, { ok: true, artifact_id: String(nextId++) });
    }
    if (req.method === 'PUT' && url.pathname.startsWith('/blob/')) {
      const name = decodeURIComponent(url.pathname.slice('/blob/'.length));
      const artifact = artifacts.get(name);
      if (!artifact) {
        res.writeHead(404).end();
        return;
      }
      const comp = url.searchParams.get('comp');
      if (comp === 'block') {
        blocks.set(`${name}/${url.searchParams.get('blockid')}`, data);
      } else if (comp === 'blocklist') {
        const ids = [...data.toString().matchAll(/<(?:Latest|Uncommitted|Committed)>([^<]*)<\//g)].map((m) => m[1] ?? '');
        artifact.bytes = Buffer.concat(ids.map((id) => blocks.get(`${name}/${id}`) ?? Buffer.alloc(0)));
      } else {
        artifact.bytes = data; // single-shot Put Blob
      }
      res.writeHead(201, {
        'x-ms-request-id': `req-${Date.now()}`,
        'x-ms-version': '2023-11-03',
        etag: '"0x1"',
        'last-modified': new Date().toUTCString(),
      });
      res.end();
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: address,
    artifacts,
    env: {
      ACTIONS_RESULTS_URL: `${address}/`,
      ACTIONS_RUNTIME_TOKEN: unsignedJwt({ scp: 'Actions.ExampleScope Actions.Results:run-backend-1:job-backend-1' }),
      GITHUB_SERVER_URL: 'https://github.com',
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
