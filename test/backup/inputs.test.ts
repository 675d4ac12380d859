// The backup inputs, parsed by parseSettings: defaults, validation that names the input and the fix, age
// recipients checked before anything runs, and every input parseSettings reads declared in action.yml.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import YAML from 'yaml';
import { Encrypter, generateHybridIdentity, generateIdentity, generateX25519Identity, identityToRecipient } from 'age-encryption';
import { actionsArtifactUploader, ArtifactServiceUnavailable, backupArtifactName, isGhesServer } from '../../src/backup/artifact.ts';
import { recipientProblem } from '../../src/core/backup-settings.ts';
import { parseSettings, SETTINGS_INPUTS } from '../../src/core/settings.ts';
import { parseBackupSettings } from './settings.ts';

const read = (values: Record<string, string>) => (name: string) => values[name] ?? '';

describe('backup inputs', () => {
  test('defaults: backup on, keep 3, encrypted upload, no recipients, newest backup on the nodes', () => {
    expect(parseBackupSettings(read({}))).toEqual({
      enabled: true,
      keep: 3,
      recipients: [],
      upload: 'encrypted',
      collectKubeadmBackups: false,
      confirmRollback: '',
      rollbackSource: { kind: 'node' },
    });
  });

  test('recipients one per line or comma-separated, with comments', async () => {
    const a = await identityToRecipient(await generateIdentity());
    const b = await identityToRecipient(await generateIdentity());
    expect(parseBackupSettings(read({ 'backup-encryption-recipients': `# team\n${a}, ${b} # second\n` })).recipients).toEqual([a, b]);
  });

  test('recipients are checked without the age library, and accepted exactly when age-encryption accepts them', async () => {
    const x25519 = await identityToRecipient(await generateX25519Identity());
    const hybrid = await identityToRecipient(await generateHybridIdentity());
    const flip = (r: string, at: number) => r.slice(0, at) + (r[at] === 'q' ? 'p' : 'q') + r.slice(at + 1);
    const candidates = [
      x25519,
      hybrid,
      await identityToRecipient(await generateIdentity()),
      flip(x25519, 10),
      flip(x25519, x25519.length - 1),
      flip(hybrid, 200),
      x25519.toUpperCase(),
      x25519.slice(0, -1),
      `${x25519}q`,
      `${x25519.slice(0, 20)}B${x25519.slice(21)}`,
      'age1',
      'age1qqqqqqqq',
      'ssh-ed25519 AAAAC3Nza',
      'AGE-SECRET-KEY-1QQQ',
      '',
      'age1tag1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq',
      'age1pq1qqqqqqqq',
    ];
    for (const candidate of candidates) {
      let libAccepts = true;
      try {
        new Encrypter().addRecipient(candidate);
      } catch {
        libAccepts = false;
      }
      expect({ candidate, accepted: recipientProblem(candidate) === undefined }).toEqual({ candidate, accepted: libAccepts });
    }
    expect(recipientProblem(flip(x25519, 10))).toMatch(/is not an age recipient: it has a wrong checksum/);
  });

  test('every bad input is named with its fix, all at once', () => {
    const run = () =>
      parseBackupSettings(
        read({
          'backup-encryption-recipients': 'ssh-ed25519 AAAAC3Nza',
          'backup-upload': 'plain',
          'backup-keep': '0',
          'artifact-retention-days': '500',
          'etcd-endpoints': 'https://10.0.0.5:2379',
          'etcd-ca': 'ca.crt',
        }),
      );
    expect(run).toThrow(
      /backup-encryption-recipients: .*not an age recipient.*SSH public keys are not supported.*Fix: give age public keys/,
    );
    expect(run).toThrow(/backup-upload: "plain" is not one of encrypted, unencrypted, none/);
    expect(run).toThrow(/backup-keep: "0" is not a whole number from 1 to 1000/);
    expect(run).toThrow(/artifact-retention-days: "500" is not a whole number from 1 to 400/);
    expect(run).toThrow(/etcd-ca: "ca.crt" is not an absolute path/);
  });

  test('external etcd set in part names the missing inputs', () => {
    const run = () => parseBackupSettings(read({ 'etcd-endpoints': 'https://10.0.0.5:2379', 'etcd-ca': '/etc/etcd/ca.crt' }));
    expect(run).toThrow(/etcd-cert: is empty while etcd-endpoints is set/);
    expect(run).toThrow(/etcd-key: is empty while etcd-endpoints is set/);
    expect(() => parseBackupSettings(read({ 'etcd-key': '-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEI' }))).toThrow(
      /etcd-key: holds PEM text, not a path \(the value is not shown\)/,
    );
  });

  test('external etcd from inputs', () => {
    const s = parseBackupSettings(
      read({
        'etcd-endpoints': 'https://10.0.0.5:2379,https://10.0.0.6:2379',
        'etcd-ca': '/etc/etcd/ca.crt',
        'etcd-cert': '/etc/etcd/c.crt',
        'etcd-key': '/etc/etcd/c.key',
      }),
    );
    expect(s.externalEtcd).toEqual({
      endpoints: ['https://10.0.0.5:2379', 'https://10.0.0.6:2379'],
      caFile: '/etc/etcd/ca.crt',
      certFile: '/etc/etcd/c.crt',
      keyFile: '/etc/etcd/c.key',
    });
  });

  test('rollback needs confirm-rollback, before anything connects', () => {
    expect(() => parseSettings(read({ command: 'rollback' }))).toThrow(
      /confirm-rollback: is empty, and command rollback rewinds the whole cluster.*Fix: set confirm-rollback to the cluster's name/,
    );
    expect(parseSettings(read({ command: 'rollback', 'confirm-rollback': 'prod' })).backup.confirmRollback).toBe('prod');
  });

  test('rollback-source: a backup id on the nodes, or a folder with a decrypted backup', () => {
    const source = (value: string) =>
      parseSettings(read({ command: 'backup', 'rollback-source': value }), { workspace: '/home/runner/work/repo' }).backup.rollbackSource;
    expect(source('20250301T101500Z-4242')).toEqual({ kind: 'node', id: '20250301T101500Z-4242' });
    expect(source('/tmp/restore')).toEqual({ kind: 'runner', dir: '/tmp/restore' });
    expect(source('restore')).toEqual({ kind: 'runner', dir: '/home/runner/work/repo/restore' });
    expect(() => source('-rf')).toThrow(/rollback-source: "-rf" is neither a backup id nor a folder/);
  });

  test('every input parseSettings reads is declared in action.yml, and nothing else is', () => {
    const action = YAML.parse(readFileSync(join(import.meta.dirname, '..', '..', 'action.yml'), 'utf8')) as {
      inputs: Record<string, unknown>;
      outputs: Record<string, unknown>;
    };
    expect([...SETTINGS_INPUTS].sort()).toEqual(Object.keys(action.inputs).sort());
    expect(Object.keys(action.outputs)).toEqual(expect.arrayContaining(['backup-path', 'backup-artifact', 'backup-id']));
  });

  test('artifact names carry cluster and run, without characters the service refuses', () => {
    expect(backupArtifactName('prod/eu:1', '123', '2')).toBe('kubeadm-backup-prod-eu-1-run-123-attempt-2');
    expect(backupArtifactName('sim', '9', '1')).toBe('kubeadm-backup-sim-run-9');
  });

  test('GHES is told apart as @actions/artifact does', () => {
    expect(isGhesServer('https://github.com')).toBe(false);
    expect(isGhesServer('https://acme.ghe.com')).toBe(false);
    expect(isGhesServer('https://github.acme.internal')).toBe(true);
  });

  test('outside a job (no ACTIONS_RUNTIME_TOKEN) the artifact service counts as unavailable, not as a failure', async () => {
    const uploader = actionsArtifactUploader({ GITHUB_SERVER_URL: 'https://github.com' });
    const attempt = uploader.upload('kubeadm-backup-x-run-1', ['/nonexistent'], '/');
    await expect(attempt).rejects.toBeInstanceOf(ArtifactServiceUnavailable);
    await expect(attempt).rejects.toThrow(/ACTIONS_RUNTIME_TOKEN/);
  });
});
