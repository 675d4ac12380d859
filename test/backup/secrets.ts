// The secrets scan: every private key of the simulated cluster (its PEM body lines), the client keys inside
// kubeconfigs, the SSH key, plus any extra strings (age identities, etcd values) must not appear in text.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const info = statSync(path);
    if (info.isDirectory()) out.push(...filesUnder(path));
    else if (info.isFile() && info.size < 1_000_000) out.push(path);
  }
  return out;
}

/** Distinctive fragments of every private key under the cluster dir's pki/ and ssh/ and in its kubeconfig. */
export function clusterSecretFragments(clusterDir: string): string[] {
  const fragments = new Set<string>();
  const files = [...filesUnder(join(clusterDir, 'pki')), ...filesUnder(join(clusterDir, 'ssh')), join(clusterDir, 'kubeconfig')];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const block of text.matchAll(/-----BEGIN [A-Z ]*PRIVATE KEY-----([\s\S]*?)-----END/g)) {
      for (const line of (block[1] ?? '').split('\n').map((l) => l.trim())) if (line.length >= 40) fragments.add(line.slice(0, 40));
    }
    for (const m of text.matchAll(/client-key-data:\s*(\S+)/g)) fragments.add((m[1] ?? '').slice(0, 40));
  }
  return [...fragments];
}

export function secretsIn(text: string, options: { clusterDir: string; extra?: string[] }): string[] {
  const leaks: string[] = [];
  if (/PRIVATE KEY/.test(text)) leaks.push('a PEM private key header');
  for (const secret of [...clusterSecretFragments(options.clusterDir), ...(options.extra ?? [])]) {
    if (secret && text.includes(secret)) leaks.push(`${secret.slice(0, 12)}…`);
  }
  return leaks;
}
