// Host keys are matched the way OpenSSH matches them; keys and hashed names come from the real ssh-keygen.
import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  fingerprintOf,
  hostKeyAlgorithmsFor,
  keyTypeOf,
  parseKnownHosts,
  verifyAgainstFingerprint,
  verifyAgainstKnownHosts,
} from '../../../src/adapters/transport/known-hosts.ts';

const dir = mkdtempSync(join(tmpdir(), 'kua-kh-'));
const keys: Record<string, { line: string; blob: Buffer }> = {};

function makeKey(name: string, type: string, bits?: string): void {
  const file = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(bits ? ['-b', bits] : []), '-N', '', '-C', name, '-f', file]);
  const line = readFileSync(`${file}.pub`, 'utf8').trim();
  keys[name] = { line, blob: Buffer.from(line.split(' ')[1]!, 'base64') };
}

/** "type base64" of a key, as it follows the host names in known_hosts. */
const pub = (name: string) => keys[name]!.line.split(' ').slice(0, 2).join(' ');

beforeAll(() => {
  makeKey('ed', 'ed25519');
  makeKey('ec', 'ecdsa', '256');
  makeKey('rsa', 'rsa', '2048');
  makeKey('other', 'ed25519');
});

describe('known_hosts matching', () => {
  it('accepts the key of a plain entry and names its type', () => {
    const entries = parseKnownHosts(`# nodes\n10.0.0.10,cp-1.example ${pub('ed')}\n10.0.0.11 ${pub('rsa')}\n`);
    expect(verifyAgainstKnownHosts(entries, '10.0.0.10', 22, keys.ed!.blob)).toEqual({ ok: true });
    expect(verifyAgainstKnownHosts(entries, 'CP-1.example', 22, keys.ed!.blob)).toEqual({ ok: true });
    expect(verifyAgainstKnownHosts(entries, '10.0.0.11', 22, keys.rsa!.blob)).toEqual({ ok: true });
    expect(keyTypeOf(keys.ec!.blob)).toBe('ecdsa-sha2-nistp256');
  });

  it('matches hashed entries written by ssh-keygen -H, including [host]:port', () => {
    const file = join(dir, 'known_hosts_hashed');
    writeFileSync(file, `10.0.0.10 ${pub('ed')}\n[10.0.0.12]:2222 ${pub('ec')}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('10.0.0.10');
    const entries = parseKnownHosts(text);
    expect(entries.every((e) => e.hosts.startsWith('|1|'))).toBe(true);
    expect(verifyAgainstKnownHosts(entries, '10.0.0.10', 22, keys.ed!.blob)).toEqual({ ok: true });
    expect(verifyAgainstKnownHosts(entries, '10.0.0.12', 2222, keys.ec!.blob)).toEqual({ ok: true });
    // the port is part of the name: the same host on port 22 is unknown
    expect(verifyAgainstKnownHosts(entries, '10.0.0.12', 22, keys.ec!.blob)).toMatchObject({ ok: false, reason: 'unknown' });
  });

  it('uses [host]:port for plain entries on other ports', () => {
    const entries = parseKnownHosts(`[10.0.0.13]:2200 ${pub('ed')}\n`);
    expect(verifyAgainstKnownHosts(entries, '10.0.0.13', 2200, keys.ed!.blob)).toEqual({ ok: true });
    expect(verifyAgainstKnownHosts(entries, '10.0.0.13', 22, keys.ed!.blob)).toMatchObject({ ok: false, reason: 'unknown' });
  });

  it('reports a different key as a mismatch, with both fingerprints', () => {
    const entries = parseKnownHosts(`10.0.0.10 ${pub('ed')}\n`);
    const verdict = verifyAgainstKnownHosts(entries, '10.0.0.10', 22, keys.other!.blob);
    expect(verdict).toMatchObject({ ok: false, reason: 'mismatch' });
    if (verdict.ok) return;
    expect(verdict.offered).toBe(`ssh-ed25519 ${fingerprintOf(keys.other!.blob)}`);
    expect(verdict.expected).toEqual([`ssh-ed25519 ${fingerprintOf(keys.ed!.blob)}`]);
  });

  it('honours @revoked, negated patterns and wildcards', () => {
    const entries = parseKnownHosts(`@revoked * ${pub('other')}\n*.prod.example,!bad.prod.example ${pub('ed')}\n`);
    expect(verifyAgainstKnownHosts(entries, 'node1.prod.example', 22, keys.ed!.blob)).toEqual({ ok: true });
    expect(verifyAgainstKnownHosts(entries, 'bad.prod.example', 22, keys.ed!.blob)).toMatchObject({ ok: false, reason: 'unknown' });
    expect(verifyAgainstKnownHosts(entries, 'node1.prod.example', 22, keys.other!.blob)).toMatchObject({ ok: false, reason: 'revoked' });
  });

  it('offers the host-key algorithms known_hosts holds for the host (RSA as its SHA-2 signatures too)', () => {
    const entries = parseKnownHosts(`h1 ${pub('rsa')}\nh1 ${pub('ed')}\nh2 ${pub('ec')}\n`);
    expect(hostKeyAlgorithmsFor(entries, 'h1', 22)).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa', 'ssh-ed25519']);
    expect(hostKeyAlgorithmsFor(entries, 'h2', 22)).toEqual(['ecdsa-sha2-nistp256']);
  });
});

describe('pinned fingerprints', () => {
  it('computes the SHA256 fingerprint ssh-keygen -l prints', () => {
    const printed = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(dir, 'ed.pub')], { encoding: 'utf8' }).split(' ')[1];
    expect(fingerprintOf(keys.ed!.blob)).toBe(printed);
    expect(verifyAgainstFingerprint(printed!, keys.ed!.blob)).toEqual({ ok: true });
    expect(verifyAgainstFingerprint(`${printed}=`, keys.ed!.blob)).toEqual({ ok: true });
    expect(verifyAgainstFingerprint(printed!, keys.other!.blob)).toMatchObject({ ok: false, reason: 'mismatch' });
  });
});
