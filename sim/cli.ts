// The simulator's command line (sim/README.md):
//   npm run sim -- up --dir DIR [--control-planes 3] [--workers 6] [--version 1.30.5] [--worker-version V]
//                    [--os debian|rhel|mixed] [--published LIST] [--api-only-workers N] [--pods-per-node N]
//                    [--faults FILE] [--workload demo] [--login-user ops] [--login-sudo password] [--bastion]
//   npm run sim -- status --dir DIR
//   npm run sim -- faults --dir DIR --file FILE
//   npm run sim -- down --dir DIR
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readClusterSpec } from './node/spec.ts';
import { downCluster } from './cluster/down.ts';
import { readFaultsFile, writeFaults } from './cluster/faults.ts';
import type { OsChoice, UpOptions } from './cluster/options.ts';
import { clusterStatus } from './cluster/status.ts';
import { upCluster, upResult } from './cluster/up.ts';

const USAGE = `usage:
  sim up --dir DIR [--control-planes 3] [--workers 6] [--version 1.30.5] [--worker-version V]
                   [--os debian|rhel|mixed] [--published 1.29.0,1.30.5,…] [--api-only-workers N]
                   [--pods-per-node N] [--faults FILE] [--workload none|demo]
                   [--without-versionlock NODE,…] [--mirror NODE,…=VERSION,…]
                   [--login-user NAME] [--login-sudo nopasswd|password] [--bastion]
  sim status --dir DIR
  sim faults --dir DIR --file FILE     (YAML or JSON FaultSpec[]; replaces the live faults)
  sim down --dir DIR`;

class UsageError extends Error {}

const upFlags = {
  dir: { type: 'string' },
  'control-planes': { type: 'string' },
  workers: { type: 'string' },
  version: { type: 'string' },
  'worker-version': { type: 'string' },
  os: { type: 'string' },
  published: { type: 'string' },
  'api-only-workers': { type: 'string' },
  'pods-per-node': { type: 'string' },
  faults: { type: 'string' },
  workload: { type: 'string' },
  'without-versionlock': { type: 'string' },
  mirror: { type: 'string' },
  'login-user': { type: 'string' },
  'login-sudo': { type: 'string' },
  bastion: { type: 'boolean' },
} as const;

const list = (value: string | undefined): string[] | undefined =>
  value
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** --mirror worker-3=1.30.5,1.31.0: those nodes' pkgs.k8s.io publishes only these versions. */
function mirrorOf(value: string | undefined): UpOptions['mirrors'] {
  if (value === undefined) return undefined;
  const [nodes, published] = value.split('=');
  if (!nodes || !published) throw new UsageError(`--mirror must be NODE,…=VERSION,… (e.g. worker-3=1.30.5,1.31.0), got "${value}"`);
  return [{ nodes: list(nodes) ?? [], published: list(published) ?? [] }];
}

function parse<T extends Record<string, { type: 'string' | 'boolean' }>>(
  args: string[],
  flags: T,
): Partial<{ [K in keyof T]: T[K]['type'] extends 'boolean' ? boolean : string }> {
  try {
    return parseArgs({ args, options: flags, strict: true, allowPositionals: false }).values as Partial<{
      [K in keyof T]: T[K]['type'] extends 'boolean' ? boolean : string;
    }>;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function wholeNumber(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${flag} must be a whole number, got "${value}"`);
  return Number(value);
}

function requireDir(value: string | undefined): string {
  if (!value) throw new UsageError('--dir DIR is required');
  return resolve(value);
}

function requireCluster(dir: string): void {
  if (!existsSync(join(dir, 'cluster.json')))
    throw new UsageError(`${dir} holds no cluster (no cluster.json): bring one up with \`sim up --dir ${dir}\``);
}

export function upOptionsFromArgs(args: string[]): UpOptions {
  const v = parse(args, upFlags);
  const options: UpOptions = {
    dir: requireDir(v.dir),
    controlPlanes: wholeNumber('control-planes', v['control-planes']),
    workers: wholeNumber('workers', v.workers),
    version: v.version,
    workerVersion: v['worker-version'],
    os: v.os as OsChoice | undefined,
    published: list(v.published),
    apiOnlyWorkers: wholeNumber('api-only-workers', v['api-only-workers']),
    podsPerNode: wholeNumber('pods-per-node', v['pods-per-node']),
    workload: v.workload as UpOptions['workload'],
    withoutVersionlock: list(v['without-versionlock']),
    mirrors: mirrorOf(v.mirror),
    loginUser: v['login-user'],
    loginSudo: v['login-sudo'] as UpOptions['loginSudo'],
    bastion: v.bastion,
  };
  if (v.faults) options.faults = readFaultsFile(resolve(v.faults));
  return options;
}

const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);

async function run(command: string | undefined, args: string[]): Promise<number> {
  switch (command) {
    case 'up': {
      const spec = await upCluster(upOptionsFromArgs(args), (line) => process.stderr.write(`sim up: ${line}\n`));
      print(upResult(spec));
      return 0;
    }
    case 'status': {
      const dir = requireDir(parse(args, { dir: { type: 'string' } }).dir);
      requireCluster(dir);
      process.stdout.write(`${JSON.stringify(await clusterStatus(dir), null, 2)}\n`);
      return 0;
    }
    case 'faults': {
      const v = parse(args, { dir: { type: 'string' }, file: { type: 'string' } });
      const dir = requireDir(v.dir);
      requireCluster(dir);
      if (!v.file) throw new UsageError('--file FILE is required (YAML or JSON FaultSpec[])');
      const faults = readFaultsFile(
        resolve(v.file),
        readClusterSpec(dir).nodes.map((n) => n.name),
      );
      writeFaults(dir, faults);
      print({ dir, faults });
      return 0;
    }
    case 'down': {
      const report = await downCluster(requireDir(parse(args, { dir: { type: 'string' } }).dir));
      print(report);
      const clean = report.remaining.processes.length === 0 && report.remaining.mounts.length === 0;
      if (!clean) process.stderr.write(`sim down: something of ${report.dir} is still running or mounted (see "remaining")\n`);
      return clean ? 0 : 1;
    }
    default:
      throw new UsageError(command ? `unknown command "${command}"` : 'a command is required');
  }
}

const [command, ...rest] = process.argv.slice(2);
if (command === '--help' || command === '-h' || command === 'help') {
  process.stdout.write(`${USAGE}\n`);
} else {
  run(command, rest).then(
    (code) => process.exit(code),
    (err: Error) => {
      process.stderr.write(`sim ${command ?? ''}: ${err.message}\n`);
      if (err instanceof UsageError) process.stderr.write(`${USAGE}\n`);
      process.exit(err instanceof UsageError ? 2 : 1);
    },
  );
}
