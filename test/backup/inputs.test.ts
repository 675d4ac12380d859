// The backup inputs: defaults, validation that names the input, age recipients checked before anything runs.
import { describe, expect, test } from 'vitest';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { backupArtifactName, isGhesServer } from '../../src/backup/artifact.ts';
import { parseBackupSettings } from '../../src/backup/inputs.ts';

const read = (values: Record<string, string>) => (name: string) => values[name] ?? '';

describe('backup inputs', () => {
  test('defaults: backup on, keep 3, encrypted upload, no recipients', () => {
    expect(parseBackupSettings(read({}))).toEqual({ enabled: true, keep: 3, recipients: [], upload: 'encrypted', collectKubeadmBackups: false, confirmRollback: '' });
  });

  test('recipients one per line or comma-separated, with comments', async () => {
    const a = await identityToRecipient(await generateIdentity());
    const b = await identityToRecipient(await generateIdentity());
    expect(parseBackupSettings(read({ 'backup-encryption-recipients': `# team\n${a}, ${b} # second\n` })).recipients).toEqual([a, b]);
  });

  test('every bad input is named with its fix, all at once', () => {
    const run = () =>
      parseBackupSettings(read({ 'backup-encryption-recipients': 'ssh-ed25519 AAAAC3Nza', 'backup-upload': 'plain', 'backup-keep': '0', 'etcd-endpoints': 'https://10.0.0.5:2379', 'etcd-ca': 'ca.crt' }));
    expect(run).toThrow(/backup-encryption-recipients: .*not an age recipient.*SSH public keys are not supported/);
    expect(run).toThrow(/backup-upload: "plain" is not a choice/);
    expect(run).toThrow(/backup-keep: "0" is not a whole number from 1/);
    expect(run).toThrow(/etcd-ca: "ca.crt" is not an absolute path/);
    expect(run).toThrow(/etcd-key: is empty while etcd-endpoints is set/);
  });

  test('external etcd from inputs', () => {
    const s = parseBackupSettings(read({ 'etcd-endpoints': 'https://10.0.0.5:2379,https://10.0.0.6:2379', 'etcd-ca': '/etc/etcd/ca.crt', 'etcd-cert': '/etc/etcd/c.crt', 'etcd-key': '/etc/etcd/c.key' }));
    expect(s.externalEtcd).toEqual({ endpoints: ['https://10.0.0.5:2379', 'https://10.0.0.6:2379'], caFile: '/etc/etcd/ca.crt', certFile: '/etc/etcd/c.crt', keyFile: '/etc/etcd/c.key' });
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
});
