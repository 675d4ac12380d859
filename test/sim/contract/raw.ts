// Raw HTTPS requests with the kubeconfig's credentials, for tests about content types and exact Status
// bodies, where a client library would hide what the server really sent.
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

export interface RawResponse {
  status: number;
  contentType: string;
  text: string;
  /** the body parsed as JSON, or undefined when it is not JSON */
  json: any;
}

export interface RawRequest {
  method: string;
  path: string;
  /** an object is sent as JSON; a string is sent as is */
  body?: unknown;
  contentType?: string;
}

export async function rawRequest(kubeconfig: KubeConfig, request: RawRequest): Promise<RawResponse> {
  const cluster = kubeconfig.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const url = new URL(request.path, cluster.server);
  const options: https.RequestOptions = { method: request.method, headers: { Accept: 'application/json' } };
  await kubeconfig.applyToHTTPSOptions(options);
  const payload = encodeBody(request.body);
  const headers: Record<string, string | number> = { ...(options.headers as Record<string, string>) };
  if (payload !== undefined) {
    headers['Content-Type'] = request.contentType ?? 'application/json';
    headers['Content-Length'] = Buffer.byteLength(payload);
  }
  return new Promise((resolve, reject) => {
    const req = https.request(url, { ...options, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text, json: parseJson(text) });
      });
      res.on('error', reject);
    });
    req.setTimeout(15_000, () => req.destroy(new Error(`${request.method} ${request.path}: no answer within 15 s`)));
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

function encodeBody(body: unknown): string | undefined {
  if (body === undefined) return undefined;
  return typeof body === 'string' ? body : JSON.stringify(body);
}

function parseJson(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A readable one-liner for assertion messages. */
export function describeResponse(response: RawResponse): string {
  return `HTTP ${response.status} (${response.contentType}): ${response.text.slice(0, 500)}`;
}
