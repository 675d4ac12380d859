// Pure checks of the backup inputs, used by parseSettings (src/core/settings.ts parses every input; this file
// only says what is wrong with a value), and the types of the settings they produce. Nothing here connects
// anywhere and nothing here needs the age library: recipients are checked by their bech32 shape, exactly as
// age-encryption's Encrypter.addRecipient checks them, so a bad key is named before any node is touched.
import { isIP } from 'node:net';
import { quoteValue, type InputProblem } from './errors.ts';
import { addressProblem, portProblem } from './names.ts';
import { resolveInWorkspace, type RealPath } from './workspace-path.ts';

type Fail = { problem: string; fix: string };

/** An external etcd cluster (kubeadm's ClusterConfiguration etcd.external). */
export interface ExternalEtcd {
  /** client URLs; the snapshot is taken from the first */
  endpoints: string[];
  /** paths on the control plane, as kubeadm's ClusterConfiguration etcd.external lists them */
  caFile: string;
  certFile: string;
  keyFile: string;
}

/** Where a rollback takes the recorded state from: backup folders on the nodes, or a decrypted artifact on the runner. */
export type RollbackSource = { kind: 'node'; id?: string } | { kind: 'runner'; dir: string };

/** <UTC stamp>-<run id>: sorts by time, names the run */
const BACKUP_ID = /^\d{8}T\d{6}Z-[A-Za-z0-9._-]+$/;

export function isBackupId(id: string): boolean {
  return BACKUP_ID.test(id);
}

const BECH32_CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const BECH32_GENERATORS = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

function bech32Polymod(values: number[]): number {
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= BECH32_GENERATORS[i]!;
  }
  return chk >>> 0;
}

/** Decodes a bech32 (BIP 173, not bech32m) string to its prefix and bytes, or says why it cannot. */
function decodeBech32(text: string, maxLength: number | null): { prefix: string; bytes: Uint8Array } | { problem: string } {
  if (maxLength !== null && text.length > maxLength) return { problem: `is longer than ${maxLength} characters` };
  if (text !== text.toLowerCase() && text !== text.toUpperCase()) return { problem: 'mixes upper and lower case' };
  const lower = text.toLowerCase();
  const sep = lower.lastIndexOf('1');
  if (sep < 1 || lower.length - sep - 1 < 6) return { problem: 'is not bech32 (no prefix, separator "1" and checksum)' };
  const prefix = lower.slice(0, sep);
  for (const c of prefix)
    if (c.charCodeAt(0) < 33 || c.charCodeAt(0) > 126) return { problem: 'is not bech32 (bad character in the prefix)' };
  const words: number[] = [];
  for (const c of lower.slice(sep + 1)) {
    const w = BECH32_CHARSET.indexOf(c);
    if (w < 0) return { problem: `is not bech32 (character ${JSON.stringify(c)} is not in the bech32 alphabet)` };
    words.push(w);
  }
  const expanded = [...[...prefix].map((c) => c.charCodeAt(0) >> 5), 0, ...[...prefix].map((c) => c.charCodeAt(0) & 31)];
  if (bech32Polymod([...expanded, ...words]) !== 1) return { problem: 'has a wrong checksum (a character is mistyped or missing)' };
  // 5-bit words to bytes; the padding must be shorter than a word and all zero
  const data = words.slice(0, -6);
  const bytes: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const w of data) {
    acc = (acc << 5) | w;
    bits += 5;
    while (bits >= 8) {
      bits -= 8;
      bytes.push((acc >>> bits) & 0xff);
    }
    acc &= (1 << bits) - 1;
  }
  if (bits >= 5 || acc !== 0) return { problem: 'has bad padding' };
  return { prefix, bytes: Uint8Array.from(bytes) };
}

/** The recipient kinds age-encryption 0.3 accepts: the text's start, bech32 prefix, key length and length limit. */
const AGE_RECIPIENT_KINDS = [
  { start: 'age1pq1', prefix: 'age1pq', bytes: 1216, maxLength: null, name: 'hybrid post-quantum' },
  { start: 'age1tag1', prefix: 'age1tag', bytes: 33, maxLength: 90, name: 'tag' },
  { start: 'age1tagpq1', prefix: 'age1tagpq', bytes: 1249, maxLength: null, name: 'hybrid tag' },
  { start: 'age1', prefix: 'age', bytes: 32, maxLength: 90, name: 'X25519' },
] as const;

/** Why a recipient string is unusable, or undefined. The value itself is public (an age public key). */
export function recipientProblem(recipient: string): string | undefined {
  const kind = AGE_RECIPIENT_KINDS.find((k) => recipient.startsWith(k.start));
  const hint = recipient.startsWith('ssh-') ? ' (SSH public keys are not supported: use an age key, `age-keygen`)' : '';
  const bad = (why: string) => `${quoteValue(recipient)} is not an age recipient: ${why}${hint}`;
  if (!kind) return bad('unrecognized recipient type (an age public key starts with age1)');
  const decoded = decodeBech32(recipient, kind.maxLength);
  if ('problem' in decoded) return bad(`it ${decoded.problem}`);
  if (decoded.prefix !== kind.prefix || decoded.bytes.length !== kind.bytes)
    return bad(
      `not a ${kind.name} public key (${decoded.bytes.length} bytes after ${decoded.prefix}1, expected ${kind.bytes} after ${kind.prefix}1)`,
    );
  return undefined;
}

/** Splits the backup-encryption-recipients input: one recipient per line or comma-separated; # starts a comment. */
function parseRecipients(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.replace(/#.*$/, ''))
    .flatMap((line) => line.split(','))
    .map((r) => r.trim())
    .filter(Boolean);
}

/** backup-encryption-recipients: age public keys, one per line or comma-separated, `#` comments. */
export function parseRecipientsInput(text: string): string[] | Fail {
  const recipients = parseRecipients(text);
  const problems = recipients.map(recipientProblem).filter((p): p is string => p !== undefined);
  if (problems.length > 0)
    return { problem: problems.join('; '), fix: 'give age public keys (age1…), one per line; `age-keygen -y key.txt` prints one' };
  return recipients;
}

/**
 * Why `url` is not an etcd client URL this action hands to etcdctl, or undefined: https, a host name or IP
 * address (IPv6 in brackets), a port; no user info, path, query or fragment. Checked piece by piece (not with
 * WHATWG URL, which percent-encodes and accepts far more) so the message says which piece is wrong.
 */
function etcdEndpointProblem(url: string): string | undefined {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/s.exec(url);
  if (!scheme) return 'is not a URL (it does not start with https://)';
  if (scheme[1]!.toLowerCase() !== 'https') return `has scheme ${quoteValue(scheme[1]!)}: an etcd client URL here is https`;
  const rest = scheme[2]!;
  const authority = /^[^/?#]*/.exec(rest)![0];
  const after = rest.slice(authority.length);
  if (authority.includes('@'))
    return 'carries a user name or password before "@" (userinfo); etcd authenticates with the client certificate';
  if (after !== '' && after !== '/') return 'has a path, query or fragment after the port';
  const hostPort = /^(\[[^\]]*\]|[^:]*)(?::([^:]*))?$/.exec(authority);
  if (!hostPort) return 'has a host that is neither a host name nor an IP address (IPv6 goes in brackets)';
  const host = hostPort[1]!;
  if (host.startsWith('[')) {
    if (isIP(host.slice(1, -1)) !== 6) return `has host ${quoteValue(host)}, which is not an IPv6 address`;
  } else {
    const p = addressProblem(host);
    if (p) return `has host ${quoteValue(host)}, which ${p}`;
  }
  const port = hostPort[2];
  if (port === undefined || port === '') return 'has no port (etcd listens on 2379 for clients)';
  if (!/^\d{1,5}$/.test(port) || portProblem(Number(port))) return `has port ${quoteValue(port)}, which is not a TCP port (1-65535)`;
  return undefined;
}

/** etcd-endpoints: external etcd client URLs, comma- or space-separated. */
export function parseEtcdEndpoints(text: string): string[] | Fail {
  const endpoints = text.split(/[\s,]+/).filter(Boolean);
  for (const url of endpoints) {
    const why = etcdEndpointProblem(url);
    if (why)
      return {
        problem: `${quoteValue(url)} is not an etcd client URL: it ${why}`,
        fix: 'write https URLs of a host and a port, such as https://10.0.0.5:2379, comma-separated',
      };
  }
  return endpoints;
}

/** A path on a node: absolute, of safe characters only, no "." or ".." parts, at most PATH_MAX. */
const NODE_PATH = /^(?:\/[A-Za-z0-9_+@-][A-Za-z0-9._+@-]*)+$/;
const MAX_NODE_PATH = 4096;

/** Why `text` is not a usable path on a node, or undefined. */
function nodePathProblem(text: string): string | undefined {
  const ok = text.length <= MAX_NODE_PATH && NODE_PATH.test(text) && !text.split('/').some((part) => part === '.' || part === '..');
  return ok
    ? undefined
    : `${quoteValue(text)} is not an absolute path of letters, digits, ".", "_", "-", "+" and "@" (no "." or ".." parts, at most ${MAX_NODE_PATH} characters)`;
}

/** etcd-ca / etcd-cert / etcd-key: paths on the control-plane nodes, never PEM text. */
export function parseNodePath(text: string): string | undefined | Fail {
  if (text === '') return undefined;
  if (text.includes('-----BEGIN'))
    return {
      problem: 'holds PEM text, not a path (the value is not shown)',
      fix: "give the file's path on the control-plane nodes, as in ClusterConfiguration etcd.external; no key material passes through the action",
    };
  const problem = nodePathProblem(text);
  if (problem)
    return {
      problem,
      fix: "give the file's path on the control-plane nodes, as in ClusterConfiguration etcd.external, such as /etc/kubernetes/pki/etcd/ca.crt",
    };
  return text;
}

/** The external etcd settings from the four inputs, or the problems when they are set only in part. */
export function externalEtcdFrom(
  endpoints: string[],
  files: { caFile?: string; certFile?: string; keyFile?: string },
  problems: InputProblem[],
): ExternalEtcd | undefined {
  const given = [files.caFile, files.certFile, files.keyFile].filter(Boolean).length;
  if (endpoints.length === 0 && given === 0) return undefined;
  if (endpoints.length === 0)
    problems.push({
      input: 'etcd-endpoints',
      problem: 'is empty while etcd-ca/etcd-cert/etcd-key are set',
      fix: 'list the external etcd client URLs, or leave all four empty for stacked etcd',
    });
  for (const [input, value] of [
    ['etcd-ca', files.caFile],
    ['etcd-cert', files.certFile],
    ['etcd-key', files.keyFile],
  ] as const) {
    if (!value)
      problems.push({
        input,
        problem: 'is empty while etcd-endpoints is set',
        fix: "give the file's path on the control-plane nodes, as in ClusterConfiguration etcd.external",
      });
  }
  return { endpoints, caFile: files.caFile ?? '', certFile: files.certFile ?? '', keyFile: files.keyFile ?? '' };
}

/**
 * rollback-source: empty = the newest backup this action made on the nodes; a backup id (the failed run's
 * `backup-id` output) = that backup on the nodes; anything else = a folder on the runner holding a decrypted,
 * unpacked backup artifact: absolute (a folder the operator chose, taken as given), or relative to the
 * workspace and then contained in it after symlinks are resolved (`realpath`).
 */
export function parseRollbackSource(text: string, workspace: string | undefined, realpath: RealPath): RollbackSource | Fail {
  if (text === '' || text === 'node') return { kind: 'node' };
  if (isBackupId(text)) return { kind: 'node', id: text };
  if (/[\0\n\r]/.test(text) || text.startsWith('-'))
    return {
      problem: `${quoteValue(text)} is neither a backup id nor a folder`,
      fix: 'leave it empty (newest backup on the nodes), give a backup id such as 20250101T120000Z-4242 (the backup-id output), or a folder holding a decrypted backup (docs/restore.md)',
    };
  if (text.startsWith('/')) return { kind: 'runner', dir: text };
  if (!workspace)
    return {
      problem: `${quoteValue(text)} is a relative folder, but GITHUB_WORKSPACE is not set`,
      fix: 'give an absolute path on the runner',
    };
  const resolved = resolveInWorkspace(text, workspace, realpath, {
    allowRoot: true,
    fix: 'unpack the backup into a folder inside the workspace and give its path relative to it, or give an absolute path on the runner',
  });
  return 'problem' in resolved ? resolved : { kind: 'runner', dir: resolved.absolute };
}
