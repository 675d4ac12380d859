// crictl ps / inspect / exec over the node's static pods (its manifests are its containers).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { hostPath, type ToolContext } from './context.ts';

interface Container {
  id: string;
  podId: string;
  name: string;
  pod: string;
  image: string;
  imageId: string;
}

function sha(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** One container per static pod manifest; IDs change when the image does, like a restarted container. */
export function staticContainers(ctx: ToolContext): Container[] {
  const dir = hostPath(ctx, '/etc/kubernetes/manifests');
  if (!existsSync(dir)) return [];
  const containers: Container[] = [];
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()) {
    const manifest = YAML.parse(readFileSync(join(dir, file), 'utf8')) as any;
    const first = manifest?.spec?.containers?.[0];
    if (!first?.name || !first.image) continue;
    const pod = `${manifest.metadata?.name ?? first.name}-${ctx.nodeName}`;
    containers.push({
      id: sha(`${ctx.nodeName}/${pod}/${first.image}`),
      podId: sha(`${ctx.nodeName}/${pod}`),
      name: first.name,
      pod,
      image: String(first.image),
      imageId: sha(String(first.image)),
    });
  }
  return containers;
}

function optionValue(argv: string[], names: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (names.includes(arg)) return argv[i + 1];
    const eq = names.find((n) => n.startsWith('--') && arg.startsWith(`${n}=`));
    if (eq) return arg.slice(eq.length + 1);
  }
  return undefined;
}

function asJson(c: Container): object {
  return {
    id: c.id,
    podSandboxId: c.podId,
    metadata: { name: c.name, attempt: 0 },
    image: { image: c.image },
    imageRef: `sha256:${c.imageId}`,
    state: 'CONTAINER_RUNNING',
    createdAt: '1700000000000000000',
    labels: { 'io.kubernetes.container.name': c.name, 'io.kubernetes.pod.name': c.pod, 'io.kubernetes.pod.namespace': 'kube-system' },
    annotations: {},
  };
}

function ps(ctx: ToolContext, argv: string[]): number {
  const name = optionValue(argv, ['--name']);
  const output = optionValue(argv, ['-o', '--output']);
  const rows = staticContainers(ctx).filter((c) => !name || new RegExp(name).test(c.name));
  if (argv.includes('-q') || argv.includes('--quiet')) {
    for (const c of rows) ctx.out(`${c.id}\n`);
  } else if (output === 'json') {
    ctx.out(`${JSON.stringify({ containers: rows.map(asJson) }, null, 2)}\n`);
  } else {
    const line = (cells: string[]) =>
      `${cells.map((cell, i) => (i < cells.length - 1 ? cell.padEnd(i === 4 ? 26 : 20) : cell)).join('')}\n`;
    ctx.out(line(['CONTAINER', 'IMAGE', 'CREATED', 'STATE', 'NAME', 'ATTEMPT', 'POD ID', 'POD']));
    for (const c of rows)
      ctx.out(line([c.id.slice(0, 13), c.imageId.slice(0, 13), 'About an hour ago', 'Running', c.name, '0', c.podId.slice(0, 13), c.pod]));
  }
  return 0;
}

function find(ctx: ToolContext, id: string): Container | undefined {
  return staticContainers(ctx).find((c) => id.length > 0 && c.id.startsWith(id));
}

function notFound(ctx: ToolContext, id: string, what: string): number {
  ctx.err(
    `FATA[0000] ${what}: rpc error: code = NotFound desc = could not find container "${id}": container with ID starting with ${id} not found: ID does not exist\n`,
  );
  return 1;
}

function exec(ctx: ToolContext, argv: string[]): Promise<number> {
  const rest = argv.filter((a) => !['-i', '-t', '-it', '-ti', '--interactive', '--tty'].includes(a));
  const [id = '', command, ...args] = rest;
  if (!find(ctx, id)) return Promise.resolve(notFound(ctx, id, 'execing command in container'));
  if (!command) {
    ctx.err('FATA[0000] command is required\n');
    return Promise.resolve(1);
  }
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['inherit', 'pipe', 'pipe'], env: ctx.env as NodeJS.ProcessEnv });
    child.stdout.on('data', (d: Buffer) => ctx.out(d.toString()));
    child.stderr.on('data', (d: Buffer) => ctx.err(d.toString()));
    child.on('error', (err) => {
      ctx.err(`FATA[0000] execing command in container: ${err.message}\n`);
      resolve(126);
    });
    child.on('close', (code) => resolve(code ?? 1));
  });
}

export async function crictl(ctx: ToolContext, argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === 'ps') return ps(ctx, rest);
  if (verb === 'exec') return exec(ctx, rest);
  if (verb === 'inspect') {
    const id = rest.find((a) => !a.startsWith('-')) ?? '';
    const c = find(ctx, id);
    if (!c) return notFound(ctx, id, 'getting the status of the container');
    ctx.out(
      `${JSON.stringify({ status: { ...asJson(c), state: 'CONTAINER_RUNNING' }, info: { sandboxID: c.podId, pid: 4242 } }, null, 2)}\n`,
    );
    return 0;
  }
  ctx.err(`FATA[0000] the simulated crictl supports ps, exec and inspect, not "${verb ?? ''}"\n`);
  return 1;
}
