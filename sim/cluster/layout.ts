// Writes everything sim/README.md lists under DIR before any process starts.
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClusterSpec } from '../node/spec.ts';
import { writeAdminKubeconfig, writeClientKey, writeInventory, writeKnownHosts } from './access-files.ts';
import { writeFaults, type FaultSpec } from './faults.ts';
import { writeBastionFiles } from './bastion-files.ts';
import { shareWithLoginUser } from './login.ts';
import { controlPlaneKubeconfigs, writeNodeFiles } from './node-files.ts';
import { createClusterPki } from './pki.ts';

/** Refuses a DIR that holds anything: a cluster there may still be running. */
export function assertEmptyDir(dir: string): void {
  if (!existsSync(dir)) return;
  const entries = readdirSync(dir);
  if (entries.length === 0) return;
  const hint = entries.includes('cluster.json')
    ? `it holds a cluster: run \`npm run sim -- down --dir ${dir}\` and remove it, or choose another --dir`
    : 'choose an empty or new directory';
  throw new Error(`--dir ${dir} is not empty (${entries.slice(0, 5).join(', ')}${entries.length > 5 ? ', …' : ''}): ${hint}`);
}

export async function writeClusterLayout(spec: ClusterSpec, faults?: FaultSpec[]): Promise<void> {
  await mkdir(spec.dir, { recursive: true });
  await writeFile(join(spec.dir, 'cluster.json'), `${JSON.stringify(spec, null, 2)}\n`);
  if (faults) writeFaults(spec.dir, faults);
  await mkdir(join(spec.dir, 'apiserver'), { recursive: true });
  const [pki] = await Promise.all([createClusterPki(spec), writeClientKey(spec.dir), writeInventory(spec)]);
  const confs = controlPlaneKubeconfigs(spec, pki);
  await Promise.all([writeAdminKubeconfig(spec, pki), ...spec.nodes.map((node) => writeNodeFiles(spec, pki, confs, node))]);
  if (spec.bastion) await writeBastionFiles(spec);
  await writeKnownHosts(spec);
  await shareWithLoginUser(spec);
}
