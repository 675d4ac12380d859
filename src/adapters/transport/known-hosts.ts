// Host-key verification the way OpenSSH reads known_hosts: plain and hashed (|1|salt|hash) host names,
// `[host]:port` for ports other than 22, wildcard patterns, negation, @revoked; or a pinned SHA256 fingerprint.
// `@cert-authority` lines cannot vouch for a key here: ssh2 (1.17) cannot negotiate certificate host keys
// (see test/adapters/transport/host-certificate.test.ts), so open.ts sends a host a CA line covers to the OpenSSH
// transport (openssh.ts), and a host ssh2 meets that is listed only through a CA gets its own verdict.
import { createHash, createHmac } from 'node:crypto';

export interface KnownHostsEntry {
  marker?: '@revoked' | '@cert-authority';
  /** comma-separated host patterns or one hashed name, as written */
  hosts: string;
  keyType: string;
  /** the key blob, base64 as in the file */
  key: string;
}

export type HostKeyVerdict =
  | { ok: true }
  | { ok: false; reason: 'unknown' | 'mismatch' | 'revoked' | 'certificate-authority'; offered: string; expected: string[] };

/** Parses known_hosts text; lines that are not entries (comments, blanks, garbage) are skipped like ssh does. */
export function parseKnownHosts(text: string): KnownHostsEntry[] {
  const entries: KnownHostsEntry[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const fields = raw.trim().split(/\s+/);
    if (fields[0] === undefined || fields[0] === '' || fields[0].startsWith('#')) continue;
    let marker: KnownHostsEntry['marker'];
    if (fields[0] === '@revoked' || fields[0] === '@cert-authority') marker = fields.shift() as KnownHostsEntry['marker'];
    const [hosts, keyType, key] = fields;
    if (!hosts || !keyType || !key || !/^[A-Za-z0-9+/]+=*$/.test(key)) continue;
    entries.push({ marker, hosts, keyType, key });
  }
  return entries;
}

/** The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise. */
export function lookupName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll('?', '.');
  return new RegExp(`^${body}$`, 'i');
}

function hashedNameMatches(hashed: string, name: string): boolean {
  const [, magic, salt, hash] = hashed.split('|');
  if (magic !== '1' || !salt || !hash) return false;
  const digest = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
  return digest === hash;
}

/** Whether an entry's host field names `name` (a negated pattern that matches vetoes the entry). */
export function hostsFieldMatches(hosts: string, name: string): boolean {
  if (hosts.startsWith('|1|')) return hashedNameMatches(hosts, name);
  let matched = false;
  for (const pattern of hosts.split(',')) {
    if (pattern.startsWith('!')) {
      if (globToRegExp(pattern.slice(1)).test(name)) return false;
    } else if (globToRegExp(pattern).test(name)) {
      matched = true;
    }
  }
  return matched;
}

/** The entries (not CA lines) that apply to host:port. */
export function entriesFor(entries: KnownHostsEntry[], host: string, port: number): KnownHostsEntry[] {
  const name = lookupName(host, port);
  return entries.filter((e) => e.marker !== '@cert-authority' && hostsFieldMatches(e.hosts, name));
}

/** The key type written inside an SSH public key blob (its first string). */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const length = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + length).toString('latin1');
}

/** OpenSSH's fingerprint of a key blob: `SHA256:` + unpadded base64 of its SHA-256. */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

function describe(blob: Buffer): string {
  return `${keyTypeOf(blob)} ${fingerprintOf(blob)}`;
}

/** Checks the key a server offered against the known_hosts entries for host:port. */
export function verifyAgainstKnownHosts(entries: KnownHostsEntry[], host: string, port: number, offered: Buffer): HostKeyVerdict {
  const applicable = entriesFor(entries, host, port);
  const offeredB64 = offered.toString('base64');
  const expected = applicable.filter((e) => e.marker !== '@revoked').map((e) => describe(Buffer.from(e.key, 'base64')));
  if (applicable.some((e) => e.marker === '@revoked' && e.key === offeredB64)) {
    return { ok: false, reason: 'revoked', offered: describe(offered), expected };
  }
  if (applicable.some((e) => e.marker === undefined && e.key === offeredB64)) return { ok: true };
  if (expected.length === 0 && certificateAuthorityFor(entries, host, port))
    return { ok: false, reason: 'certificate-authority', offered: describe(offered), expected };
  return { ok: false, reason: expected.length === 0 ? 'unknown' : 'mismatch', offered: describe(offered), expected };
}

/** Whether a `@cert-authority` line names host:port. */
export function certificateAuthorityFor(entries: KnownHostsEntry[], host: string, port: number): boolean {
  const name = lookupName(host, port);
  return entries.some((e) => e.marker === '@cert-authority' && hostsFieldMatches(e.hosts, name));
}

/** Checks the key a server offered against a pinned fingerprint ("SHA256:…", padding optional). */
export function verifyAgainstFingerprint(pinned: string, offered: Buffer): HostKeyVerdict {
  const want = pinned.trim().replace(/=+$/, '');
  if (fingerprintOf(offered) === want) return { ok: true };
  return { ok: false, reason: 'mismatch', offered: describe(offered), expected: [want] };
}

/** Host-key algorithms to offer so the server presents a key type known_hosts has for this host. */
export function hostKeyAlgorithmsFor(entries: KnownHostsEntry[], host: string, port: number): string[] {
  const algorithms: string[] = [];
  for (const entry of entriesFor(entries, host, port)) {
    if (entry.marker === '@revoked') continue;
    const forType = entry.keyType === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [entry.keyType];
    for (const algorithm of forType) if (!algorithms.includes(algorithm)) algorithms.push(algorithm);
  }
  return algorithms;
}
