// Who the machine at an inventory address says it is: the Node name in its kubelet's client certificate, and its
// /etc/machine-id. Read by the probe's one batch of read-only commands (IDENTITY_SCRIPT), parsed here on the runner;
// the comparison with the Node is pure (src/core/node-identity.ts).
import { X509Certificate } from 'node:crypto';
import pLimit from 'p-limit';
import type { NodeIdentity } from '../../core/cluster-state.ts';
import type { InventoryNode } from '../../core/inventory.ts';
import type { NodeShell } from '../transport/node-shell.ts';
import { parseFactSections } from './probe-parse.ts';

/**
 * A constant part of the probe's script (no value from outside is part of it). kubelet.conf (0600, so as root:
 * `sudo -n` for another login user) holds the kubelet's client certificate inline (`client-certificate-data`, as
 * `kubeadm init` wrote it before the kubelet-finalize phase) or names the file the kubelet's certificate rotation
 * keeps it in (`client-certificate: /var/lib/kubelet/pki/kubelet-client-current.pem`, certificate AND private key).
 * Only the value of client-certificate-data, or only the CERTIFICATE blocks of the file, leave the node: sed
 * drops every line of a PRIVATE KEY block before it prints anything. kubelet.conf's client-key-data is never read.
 */
/** sed's two expressions: drop every line of a PRIVATE KEY block, print the CERTIFICATE blocks (`sed -n -e A -e B`). */
export const CERTIFICATE_BLOCKS_SED = [
  '/-----BEGIN [A-Z ]*PRIVATE KEY-----/,/-----END [A-Z ]*PRIVATE KEY-----/d',
  '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p',
] as const;

export const IDENTITY_SCRIPT = [
  'echo "@@ identity"',
  'asroot() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@" </dev/null; fi; }',
  'conf=/etc/kubernetes/kubelet.conf',
  `data=$(asroot sed -n 's/^[[:space:]]*client-certificate-data:[[:space:]]*//p' "$conf" 2>/dev/null | head -n 1)`,
  'if [ -n "$data" ]; then echo "inline $data"; else',
  `  file=$(asroot sed -n 's/^[[:space:]]*client-certificate:[[:space:]]*//p' "$conf" 2>/dev/null | head -n 1 | tr -d "\\"'")`,
  '  case "$file" in ""|/*) ;; *) file="/etc/kubernetes/$file" ;; esac',
  '  if [ -z "$file" ]; then echo none; else echo "file $file";',
  `    asroot sed -n -e '${CERTIFICATE_BLOCKS_SED[0]}' -e '${CERTIFICATE_BLOCKS_SED[1]}' "$file" 2>/dev/null; fi`,
  'fi',
  'echo "@@ machine-id"; cat /etc/machine-id 2>/dev/null',
].join('\n');

const KUBELET_CONF = '/etc/kubernetes/kubelet.conf';
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+?-----END CERTIFICATE-----/;

/** CN=system:node:NAME of the first certificate in `pem`, or why there is none. */
export function nodeNameOfCertificate(pem: string): { node: string } | { problem: string } {
  const block = PEM_CERTIFICATE.exec(pem)?.[0];
  if (!block) return { problem: 'no certificate' };
  let subject: string;
  try {
    subject = new X509Certificate(block).subject;
  } catch (error) {
    return { problem: `the certificate cannot be parsed (${(error as Error).message})` };
  }
  const cn = subject
    .split('\n')
    .map((part) => /^CN=(.*)$/.exec(part.trim())?.[1])
    .find((value) => value !== undefined);
  const node = cn ? /^system:node:(.+)$/.exec(cn)?.[1] : undefined;
  return node ? { node } : { problem: `its subject is ${subject.replace(/\n/g, ', ') || 'empty'}, not CN=system:node:NAME` };
}

const unquote = (value: string) => value.trim().replace(/^(["'])(.*)\1$/, '$2');

/** The `identity` and `machine-id` sections of the probe's output. */
export function parseIdentity(identitySection: string, machineIdSection: string): NodeIdentity {
  const lines = identitySection.split('\n');
  const first = lines.findIndex((l) => l.trim() !== '');
  const head = first >= 0 ? (lines[first] ?? '').trim() : '';
  const machineId = machineIdSection.trim();
  const identity: NodeIdentity = /^[0-9a-f]{32}$/.test(machineId) ? { machineId } : {};
  const named = (source: string, read: { node: string } | { problem: string }): NodeIdentity =>
    'node' in read
      ? { ...identity, certificateNode: read.node, certificateSource: source }
      : { ...identity, certificateProblem: `the kubelet client certificate in ${source}: ${read.problem}` };
  if (head.startsWith('inline ')) {
    const pem = Buffer.from(unquote(head.slice('inline '.length)), 'base64').toString('utf8');
    return named(`${KUBELET_CONF} (client-certificate-data)`, nodeNameOfCertificate(pem));
  }
  if (head.startsWith('file ')) {
    const file = head.slice('file '.length).trim();
    const pem = lines.slice(first + 1).join('\n');
    return named(file, nodeNameOfCertificate(pem));
  }
  return { ...identity, certificateProblem: `${KUBELET_CONF} could not be read or names no client certificate` };
}

/** Reads who the machine behind `shell` is, with the probe's own script (read-only; one command). */
export async function readIdentity(shell: NodeShell): Promise<NodeIdentity> {
  const result = await shell.run(['sh', '-c', IDENTITY_SCRIPT]);
  const sections = parseFactSections(result.stdout);
  return parseIdentity(sections.identity ?? '', sections['machine-id'] ?? '');
}

/**
 * For commands that start without a plan (rollback: the API may be down, so no Node's machine-id can be read):
 * every machine must show the kubelet client certificate of the inventory entry's name. Throws, naming both
 * names and the fix, before anything changes.
 */
export async function requireCertifiedIdentities(
  nodes: readonly InventoryNode[],
  open: (node: InventoryNode) => Promise<NodeShell>,
  parallelism = 10,
): Promise<void> {
  const limit = pLimit(Math.max(1, parallelism));
  const noRoot: string[] = [];
  const problems = (
    await Promise.all(
      nodes.map((node) =>
        limit(async () => {
          const shell = await open(node);
          try {
            // kubelet.conf is root's: without root nothing can be proven, and the sudo refusal says what to fix
            const root = await shell.run(['true'], { sudo: true });
            if (root.code !== 0) {
              noRoot.push(`${node.name}: ${root.stderr.trim() || `exit ${root.code}`}`);
              return undefined;
            }
            const identity = await readIdentity(shell);
            if (identity.certificateNode === node.name) return undefined;
            return identity.certificateNode !== undefined
              ? `inventory node ${node.name} (address ${node.address}) reaches Node ${identity.certificateNode}: its kubelet client certificate (${identity.certificateSource ?? KUBELET_CONF}) is CN=system:node:${identity.certificateNode}`
              : `inventory node ${node.name} (address ${node.address}): ${identity.certificateProblem ?? 'no kubelet client certificate could be read'}`;
          } finally {
            await shell.close();
          }
        }),
      ),
    )
  ).filter((p): p is string => p !== undefined);
  if (noRoot.length > 0)
    throw new Error(
      `cannot read the nodes' kubelet client certificates as root, so no machine can be proven to be its Node: ${noRoot.join('; ')}`,
    );
  if (problems.length === 0) return;
  throw new Error(
    `cannot prove that the machine at each inventory address is the Node of that name: ${problems.join('; ')}. ` +
      `Fix: correct the address of ${nodes
        .filter((n) => problems.some((p) => p.startsWith(`inventory node ${n.name} `)))
        .map((n) => n.name)
        .join(', ')} in the inventory (or make /etc/kubernetes/kubelet.conf readable by root there); nothing was changed on any node`,
  );
}
