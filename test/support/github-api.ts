// A small local stand-in of the GitHub REST API (issue comments only), on 127.0.0.1, recording every request.
// Pages like GitHub (per_page, page, Link header); `forbidWrites` answers 403 as a fork PR's read-only token gets.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  authorization?: string;
  body?: unknown;
}

export interface IssueComment {
  id: number;
  issue: number;
  body: string;
  user: { login: string };
}

export interface GitHubApiStandIn {
  url: string;
  requests: RecordedRequest[];
  /** comments on one issue/PR, oldest first */
  comments(owner: string, repo: string, issue: number): IssueComment[];
  addComment(owner: string, repo: string, issue: number, body: string, login?: string): IssueComment;
  forbidWrites: boolean;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        resolve(text ? JSON.parse(text) : undefined);
      } catch (error) {
        reject(error);
      }
    });
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

export async function startGitHubApi(): Promise<GitHubApiStandIn> {
  const byRepo = new Map<string, IssueComment[]>();
  let nextId = 1000;
  const list = (owner: string, repo: string) => {
    const key = `${owner}/${repo}`.toLowerCase();
    if (!byRepo.has(key)) byRepo.set(key, []);
    return byRepo.get(key)!;
  };
  let baseUrl = '';
  const json = (c: IssueComment, owner: string, repo: string) => ({
    id: c.id,
    body: c.body,
    user: c.user,
    html_url: `https://github.example/${owner}/${repo}/pull/${c.issue}#issuecomment-${c.id}`,
    url: `${baseUrl}/repos/${owner}/${repo}/issues/comments/${c.id}`,
  });
  const standIn: GitHubApiStandIn = {
    url: '',
    requests: [],
    forbidWrites: false,
    comments: (owner, repo, issue) => list(owner, repo).filter((c) => c.issue === issue),
    addComment(owner, repo, issue, body, login = 'someone') {
      const comment = { id: nextId++, issue, body, user: { login } };
      list(owner, repo).push(comment);
      return comment;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', baseUrl);
    const body = req.method === 'GET' ? undefined : await readBody(req);
    standIn.requests.push({ method: req.method ?? '', path: url.pathname + url.search, authorization: req.headers.authorization, body });
    const onIssue = /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/.exec(url.pathname);
    const oneComment = /^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/.exec(url.pathname);
    if (req.method !== 'GET' && standIn.forbidWrites) {
      return send(res, 403, { message: 'Resource not accessible by integration', documentation_url: 'https://docs.github.com/rest' });
    }
    if (onIssue && req.method === 'GET') {
      const [, owner, repo, issue] = onIssue as unknown as [string, string, string, string];
      const all = standIn.comments(owner, repo, Number(issue));
      const perPage = Math.min(Number(url.searchParams.get('per_page') ?? 30), 100);
      const page = Number(url.searchParams.get('page') ?? 1);
      const last = Math.max(1, Math.ceil(all.length / perPage));
      const links: string[] = [];
      const pageUrl = (p: number) => {
        const u = new URL(url.toString());
        u.searchParams.set('page', String(p));
        u.searchParams.set('per_page', String(perPage));
        return u.toString();
      };
      if (page < last) links.push(`<${pageUrl(page + 1)}>; rel="next"`, `<${pageUrl(last)}>; rel="last"`);
      if (page > 1) links.push(`<${pageUrl(page - 1)}>; rel="prev"`, `<${pageUrl(1)}>; rel="first"`);
      const items = all.slice((page - 1) * perPage, page * perPage).map((c) => json(c, owner, repo));
      return send(res, 200, items, links.length ? { link: links.join(', ') } : {});
    }
    if (onIssue && req.method === 'POST') {
      const [, owner, repo, issue] = onIssue as unknown as [string, string, string, string];
      const text = (body as { body?: string } | undefined)?.body;
      if (typeof text !== 'string') return send(res, 422, { message: 'body is required' });
      return send(res, 201, json(standIn.addComment(owner, repo, Number(issue), text, 'github-actions[bot]'), owner, repo));
    }
    if (oneComment && req.method === 'PATCH') {
      const [, owner, repo, id] = oneComment as unknown as [string, string, string, string];
      const comment = list(owner, repo).find((c) => c.id === Number(id));
      const text = (body as { body?: string } | undefined)?.body;
      if (!comment) return send(res, 404, { message: 'Not Found' });
      if (typeof text !== 'string') return send(res, 422, { message: 'body is required' });
      comment.body = text;
      return send(res, 200, json(comment, owner, repo));
    }
    send(res, 404, { message: 'Not Found' });
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: Error) => send(res, 500, { message: error.message }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  standIn.url = baseUrl;
  return standIn;
}
