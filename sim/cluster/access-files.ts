// What a user of the cluster needs to reach it: DIR/kubeconfig, DIR/ssh/* and DIR/inventory.yaml.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { bastionPaths, nodePaths, type ClusterSpec } from '../node/spec.ts';
import { clientKubeconfig } from './node-files.ts';
import type { ClusterPki } from './pki.ts';

const execFileAsync = promisify(execFile);

export interface AccessPaths {
  kubeconfig: string;
  inventory: string;
  sshKey: string;
  knownHosts: string;
  /** known_hosts with only a `@cert-authority` line for every node (the host CA's public key) */
  knownHostsCa: string;
  /** the host CA's private key (DIR/ssh/host_ca, public key host_ca.pub) */
  hostCa: string;
  authorizedKeys: string;
}

export function accessPaths(dir: string): AccessPaths {
  return {
    kubeconfig: join(dir, 'kubeconfig'),
    inventory: join(dir, 'inventory.yaml'),
    sshKey: join(dir, 'ssh', 'id_ed25519'),
    knownHosts: join(dir, 'ssh', 'known_hosts'),
    knownHostsCa: join(dir, 'ssh', 'known_hosts_ca'),
    hostCa: join(dir, 'ssh', 'host_ca'),
    authorizedKeys: join(dir, 'ssh', 'authorized_keys'),
  };
}

/**
 * The client key pair, authorized_keys (sshd's AuthorizedKeysFile for every node) and the SSH host CA that signs
 * every node's host key (node-files.ts), as a fleet with host certificates has it.
 */
export async function writeClientKey(dir: string): Promise<void> {
  const paths = accessPaths(dir);
  await mkdir(join(dir, 'ssh'), { recursive: true, mode: 0o700 });
  await Promise.all([
    execFileAsync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'sim-client', '-f', paths.sshKey]),
    execFileAsync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'sim-host-ca', '-f', paths.hostCa]),
  ]);
  await copyFile(`${paths.sshKey}.pub`, paths.authorizedKeys);
}

function hostPattern(node: { address: string; sshPort?: number; port?: number }): string {
  const port = node.sshPort ?? node.port ?? 22;
  return port === 22 ? node.address : `[${node.address}]:${port}`;
}

/** known_hosts with every node's (and the bastion's) real host key, as plain (unhashed) entries. */
export async function writeKnownHosts(spec: ClusterSpec): Promise<void> {
  const hosts: { host: { address: string; sshPort?: number; port?: number }; key: string }[] = spec.nodes.map((node) => ({
    host: node,
    key: `${nodePaths(spec.dir, node.name).hostKey}.pub`,
  }));
  if (spec.bastion) hosts.push({ host: spec.bastion, key: `${bastionPaths(spec.dir).hostKey}.pub` });
  const lines = await Promise.all(
    hosts.map(async ({ host, key }) => {
      const pub = (await readFile(key, 'utf8')).trim().split(/\s+/);
      return `${hostPattern(host)} ${pub[0]} ${pub[1]}`;
    }),
  );
  await writeFile(accessPaths(spec.dir).knownHosts, `${lines.join('\n')}\n`);
  // the nodes' host certificates name their addresses; the bastion has no certificate
  const ca = (await readFile(`${accessPaths(spec.dir).hostCa}.pub`, 'utf8')).trim().split(/\s+/);
  const patterns = spec.nodes.map((node) => hostPattern(node)).join(',');
  await writeFile(accessPaths(spec.dir).knownHostsCa, `@cert-authority ${patterns} ${ca[0]} ${ca[1]}\n`);
}

export async function writeAdminKubeconfig(spec: ClusterSpec, pki: ClusterPki): Promise<void> {
  const text = clientKubeconfig(spec, pki, 'kubernetes-admin', pki.admin);
  await writeFile(accessPaths(spec.dir).kubeconfig, text, { mode: 0o600 });
}

/** The Action's inventory for the SSH nodes, one flow mapping per node (easy to read and to diff). */
export function inventoryYaml(spec: ClusterSpec): string {
  const lines = [`cluster: ${spec.name}`];
  // the inventory has no place for a jump host: the Action takes it as its ssh-jump-host input
  if (spec.bastion) lines.push(`# reach the nodes through the bastion: ssh-jump-host: ${jumpHostOf(spec)}`);
  lines.push(`defaults: { user: ${spec.login?.user ?? 'root'}, port: 22, transport: ssh }`, 'nodes:');
  for (const node of spec.nodes) {
    const port = node.sshPort === 22 ? '' : `, port: ${node.sshPort}`;
    const labels = node.role === 'worker' ? `, labels: { topology.kubernetes.io/zone: ${node.zone} }` : '';
    lines.push(`  - { name: ${node.name}, address: ${node.address}, role: ${node.role}${port}${labels} }`);
  }
  return `${lines.join('\n')}\n`;
}

/** The bastion as the Action's ssh-jump-host input takes it: user@address:port. */
export function jumpHostOf(spec: ClusterSpec): string {
  if (!spec.bastion) throw new Error('this cluster has no bastion (sim up --bastion)');
  return `${spec.login?.user ?? 'root'}@${spec.bastion.address}:${spec.bastion.port}`;
}

export async function writeInventory(spec: ClusterSpec): Promise<void> {
  await writeFile(accessPaths(spec.dir).inventory, inventoryYaml(spec));
}
