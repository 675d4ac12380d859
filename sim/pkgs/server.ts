// The simulated pkgs.k8s.io: `node sim/pkgs/server.ts --dir DIR`. Serves DIR/pkgs/root over HTTPS on the address
// cluster.json names (pkgs.address, port 443) with the certificate for pkgs.k8s.io that DIR/pkgs/tls holds, and each
// mirror in DIR/pkgs/mirrors/ADDRESS/ on its own address. GET and HEAD of files only; every request is one log line
// (`GET 200 /core:/stable:/v1.31/deb/InRelease`). Writes DIR/pkgs/pid; stops on SIGTERM, or by itself once DIR is
// gone.
import { createReadStream, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { join, normalize } from 'node:path';
import { parseArgs } from 'node:util';

const WATCH_DIR_MS = 5_000;

function log(line: string): void {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`);
}

function serve(root: string, address: string, tls: { cert: Buffer; key: Buffer }): Promise<Server> {
  const server = createServer(tls, (req, res) => {
    let path: string;
    try {
      path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'https://pkgs.k8s.io').pathname));
    } catch {
      path = '/';
    }
    const file = join(root, path);
    const answer = (status: number): void => log(`${address} ${req.method} ${status} ${path}`);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      answer(405);
      res.writeHead(405).end();
      return;
    }
    let size: number | undefined;
    try {
      const st = statSync(file);
      if (st.isFile() && !path.includes('..')) size = st.size;
    } catch {
      // absent
    }
    if (size === undefined) {
      answer(404);
      res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n');
      return;
    }
    answer(200);
    res.writeHead(200, { 'content-length': size, 'content-type': 'application/octet-stream' });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(443, address, () => resolve(server));
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { dir: { type: 'string' } } });
  if (!values.dir) throw new Error('usage: server.ts --dir DIR');
  const dir = values.dir;
  const spec = JSON.parse(readFileSync(join(dir, 'cluster.json'), 'utf8')) as { pkgs: { address: string } };
  const base = join(dir, 'pkgs');
  const tls = { cert: readFileSync(join(base, 'tls', 'pkgs.k8s.io.crt')), key: readFileSync(join(base, 'tls', 'pkgs.k8s.io.key')) };
  const servers = [await serve(join(base, 'root'), spec.pkgs.address, tls)];
  const mirrors = join(base, 'mirrors');
  if (existsSync(mirrors)) for (const address of readdirSync(mirrors)) servers.push(await serve(join(mirrors, address), address, tls));
  log(`serving pkgs.k8s.io on ${spec.pkgs.address}:443${servers.length > 1 ? ` and ${servers.length - 1} mirror(s)` : ''}`);
  const pidFile = join(base, 'pid');
  writeFileSync(pidFile, `${process.pid}\n`);
  let stopping = false;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    log(`${why}: shutting down`);
    rmSync(pidFile, { force: true });
    for (const server of servers) server.close();
    setTimeout(() => process.exit(0), 200).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  setInterval(() => {
    if (!existsSync(join(dir, 'cluster.json'))) stop(`${dir} is gone`);
  }, WATCH_DIR_MS).unref();
  // the interval above is unref'd: the listening servers keep the process alive
}

main().catch((error: unknown) => {
  console.error(`pkgs server: ${(error as Error).stack ?? error}`);
  process.exit(1);
});
