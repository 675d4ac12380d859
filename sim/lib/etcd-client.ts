// A small etcd v3 client over etcd's JSON gateway (POST /v3/kv/range, /v3/kv/txn, /v3/cluster/member/add …,
// keys and values base64, 64-bit numbers as strings), with mutual TLS. Several endpoints: a request goes to
// the last one that answered and fails over to the others, as kube-apiserver's --etcd-servers do.
import { request } from 'node:https';

export interface EtcdTls {
  /** PEM text */
  ca: string;
  cert: string;
  key: string;
}

export interface EtcdHeader {
  cluster_id?: string;
  member_id?: string;
  revision?: string;
  raft_term?: string;
}

export interface EtcdKv {
  key: string;
  value?: string;
  mod_revision?: string;
  create_revision?: string;
}

export interface RangeResponse {
  header?: EtcdHeader;
  kvs?: EtcdKv[];
  more?: boolean;
  count?: string;
}

export type TxnOp = { request_put: { key: string; value: string } } | { request_delete_range: { key: string } };

export const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
export const unb64 = (text: string | undefined): string => Buffer.from(text ?? '', 'base64').toString('utf8');

/** The first key after every key that starts with prefix (etcd's range_end for a prefix). */
export function prefixEnd(prefix: string): string {
  const bytes = Buffer.from(prefix, 'utf8');
  bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) + 1;
  return bytes.toString('utf8');
}

export class EtcdError extends Error {
  readonly endpoint: string;
  readonly status: number | undefined;
  constructor(endpoint: string, message: string, status?: number) {
    super(`etcd ${endpoint}: ${message}`);
    this.endpoint = endpoint;
    this.status = status;
  }
}

/** One POST to one endpoint. */
export function etcdPost<T>(endpoint: string, path: string, body: unknown, tls: EtcdTls, timeoutMs: number): Promise<T> {
  const url = new URL(path, endpoint);
  const payload = JSON.stringify(body);
  return new Promise<T>((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        ca: tls.ca,
        cert: tls.cert,
        key: tls.key,
        timeout: timeoutMs,
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200)
            return reject(new EtcdError(endpoint, `${path} answered ${res.statusCode}: ${text.slice(0, 300)}`, res.statusCode));
          try {
            resolve(JSON.parse(text) as T);
          } catch {
            reject(new EtcdError(endpoint, `${path} answered no JSON: ${text.slice(0, 300)}`));
          }
        });
        res.on('error', (err) => reject(new EtcdError(endpoint, err.message)));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => reject(new EtcdError(endpoint, `${path}: ${err.message}`)));
    req.end(payload);
  });
}

export class EtcdClient {
  private preferred = 0;
  readonly endpoints: string[];
  private readonly tls: EtcdTls;
  private readonly timeoutMs: number;

  constructor(endpoints: string[], tls: EtcdTls, timeoutMs = 5000) {
    if (endpoints.length === 0) throw new Error('EtcdClient needs at least one endpoint');
    this.endpoints = endpoints;
    this.tls = tls;
    this.timeoutMs = timeoutMs;
  }

  /** Tries the endpoint that answered last, then the others; throws the last error when none answers. */
  async post<T>(path: string, body: unknown): Promise<T> {
    let last: unknown;
    for (let i = 0; i < this.endpoints.length; i++) {
      const index = (this.preferred + i) % this.endpoints.length;
      try {
        const answer = await etcdPost<T>(this.endpoints[index]!, path, body, this.tls, this.timeoutMs);
        this.preferred = index;
        return answer;
      } catch (err) {
        last = err;
      }
    }
    throw last;
  }

  range(key: string, rangeEnd?: string, options: { limit?: number; countOnly?: boolean; revision?: string } = {}): Promise<RangeResponse> {
    return this.post<RangeResponse>('/v3/kv/range', {
      key: b64(key),
      ...(options.revision ? { revision: options.revision } : {}),
      ...(rangeEnd !== undefined ? { range_end: b64(rangeEnd) } : {}),
      ...(options.limit ? { limit: options.limit } : {}),
      ...(options.countOnly ? { count_only: true } : {}),
    });
  }

  txn(ops: TxnOp[]): Promise<{ header?: EtcdHeader; succeeded?: boolean }> {
    return this.post('/v3/kv/txn', { success: ops });
  }
}
