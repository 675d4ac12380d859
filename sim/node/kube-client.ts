// The few Kubernetes REST calls a kubelet makes, over HTTPS with a kubeconfig's embedded (or named)
// credentials (client certificate or bearer token). Standard API only, so a real server would do.
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';

export interface KubeCredentials {
  server: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  token?: string;
}

interface KubeconfigShape {
  'current-context'?: string;
  contexts?: { name: string; context: { cluster: string; user: string } }[];
  clusters?: { name: string; cluster: { server: string; 'certificate-authority-data'?: string } }[];
  users?: {
    name: string;
    user: {
      'client-certificate-data'?: string;
      'client-key-data'?: string;
      'client-certificate'?: string;
      'client-key'?: string;
      token?: string;
    };
  }[];
}

const fromBase64 = (value: string | undefined): Buffer | undefined => (value ? Buffer.from(value, 'base64') : undefined);
/** A file a kubeconfig names (as the kubelet's kubelet.conf names /var/lib/kubelet/pki/kubelet-client-current.pem), relative to the kubeconfig. */
const fromFile = (kubeconfig: string, file: string | undefined): Buffer | undefined =>
  file ? readFileSync(isAbsolute(file) ? file : resolve(dirname(kubeconfig), file)) : undefined;

export function readKubeconfig(file: string): KubeCredentials {
  const config = parseYaml(readFileSync(file, 'utf8')) as KubeconfigShape;
  const context = config.contexts?.find((c) => c.name === config['current-context']) ?? config.contexts?.[0];
  const cluster = config.clusters?.find((c) => c.name === context?.context.cluster) ?? config.clusters?.[0];
  const user = config.users?.find((u) => u.name === context?.context.user) ?? config.users?.[0];
  if (!cluster?.cluster.server) throw new Error(`kubeconfig ${file} names no cluster server`);
  return {
    server: cluster.cluster.server.replace(/\/$/, ''),
    ca: fromBase64(cluster.cluster['certificate-authority-data']),
    cert: fromBase64(user?.user['client-certificate-data']) ?? fromFile(file, user?.user['client-certificate']),
    key: fromBase64(user?.user['client-key-data']) ?? fromFile(file, user?.user['client-key']),
    token: user?.user.token,
  };
}

export interface KubeResponse {
  status: number;
  body: unknown;
}

export class KubeError extends Error {
  readonly status: number;
  constructor(method: string, path: string, status: number, detail: string) {
    super(`${method} ${path}: HTTP ${status} ${detail}`);
    this.status = status;
  }
}

export type KubeRequest = (method: string, path: string, body?: unknown, contentType?: string) => Promise<KubeResponse>;

export function kubeRequester(creds: KubeCredentials, timeoutMs = 10_000): KubeRequest {
  return (method, path, body, contentType = 'application/json') =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const headers: Record<string, string> = { Accept: 'application/json' };
      if (payload !== undefined) {
        headers['Content-Type'] = contentType;
        // a length, not chunked encoding: some servers refuse chunked DELETE bodies
        headers['Content-Length'] = String(Buffer.byteLength(payload));
      }
      if (creds.token) headers.Authorization = `Bearer ${creds.token}`;
      const req = request(
        `${creds.server}${path}`,
        { method, headers, ca: creds.ca, cert: creds.cert, key: creds.key, timeout: timeoutMs },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              // not JSON: keep the text for the error message
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
}

/** Throws a KubeError unless the status is 2xx or listed in `allowed`. */
export function expectStatus(method: string, path: string, res: KubeResponse, allowed: number[] = []): KubeResponse {
  if ((res.status >= 200 && res.status < 300) || allowed.includes(res.status)) return res;
  const message = (res.body as { message?: string } | undefined)?.message ?? JSON.stringify(res.body ?? '').slice(0, 300);
  throw new KubeError(method, path, res.status, message);
}
