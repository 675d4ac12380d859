// What every stand-in gets: where the node's files are (behind SIM_ROOT), its NodeState (locked),
// the ClusterSpec, and its streams. Tests build one with captured streams; main.ts with the process's.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { withFileLock } from '../node/file-lock.ts';
import { installedExecutableVersion } from '../node/package-db.ts';
import type { ClusterSpec, NodeState } from '../node/spec.ts';

export type { ClusterSpec, NodeState };

export interface ToolContext {
  nodeDir: string;
  nodeName: string;
  /** DIR of the cluster: dirname(dirname(nodeDir)) */
  clusterDir: string;
  /** filesystem root the node's /etc and /var live under ("/" inside a node's namespace) */
  root: string;
  env: Record<string, string | undefined>;
  out(text: string): void;
  err(text: string): void;
  /** one line from stdin ("" at end of input) */
  readLine(): Promise<string>;
}

/** A node path (/etc/..., /var/...) as seen from this process: under SIM_ROOT. Relative paths stay relative to cwd. */
export function hostPath(ctx: ToolContext, path: string): string {
  if (!isAbsolute(path)) return resolve(path);
  return ctx.root === '/' ? path : join(ctx.root, path);
}

export function clusterSpec(ctx: ToolContext): ClusterSpec {
  const file = join(ctx.clusterDir, 'cluster.json');
  return JSON.parse(readFileSync(file, 'utf8')) as ClusterSpec;
}

function stateFile(ctx: ToolContext): string {
  return join(ctx.nodeDir, 'state.json');
}

export function readState(ctx: ToolContext): NodeState {
  return JSON.parse(readFileSync(stateFile(ctx), 'utf8')) as NodeState;
}

/** Read-modify-write of state.json under the node's state.lock, written atomically. */
export function updateState(ctx: ToolContext, change: (state: NodeState) => void): NodeState {
  return withFileLock(join(ctx.nodeDir, 'state.lock'), () => {
    const state = readState(ctx);
    change(state);
    const file = stateFile(ctx);
    writeFileSync(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
    renameSync(`${file}.tmp`, file);
    return state;
  });
}

export function contextFor(
  nodeDir: string,
  io: Pick<ToolContext, 'out' | 'err' | 'readLine'>,
  env: Record<string, string | undefined> = process.env,
): ToolContext {
  const absolute = resolve(nodeDir);
  return {
    nodeDir: absolute,
    nodeName: basename(absolute),
    clusterDir: dirname(dirname(absolute)),
    root: env.SIM_ROOT && env.SIM_ROOT !== '' ? resolve(env.SIM_ROOT) : '/',
    env,
    ...io,
  };
}

/**
 * The version of `tool` the node has installed: the package's executable (/usr/bin/TOOL) says which package and
 * version it belongs to. Throws as a missing command would.
 */
export function installedVersion(ctx: ToolContext, tool: 'kubeadm' | 'kubelet' | 'kubectl'): string {
  const version = installedExecutableVersion(hostPath(ctx, `/usr/bin/${tool}`));
  if (!version) throw new Error(`${tool} is not installed (no package's /usr/bin/${tool})`);
  return version;
}

export function fileExists(ctx: ToolContext, path: string): boolean {
  return existsSync(hostPath(ctx, path));
}
