// The backup and rollback inputs, parsed once into one typed object (the lead merges this into settings.ts).
// Every problem names the input and the fix; nothing here connects anywhere.
import { InputError, quoteValue, type InputProblem } from '../core/errors.ts';
import type { UploadMode } from './backup.ts';
import { parseRecipients, recipientProblem } from './encrypt.ts';
import type { ExternalEtcd } from './node-backup.ts';

export interface BackupSettings {
  /** input `backup` (default true): the backup stage runs before the first control plane's upgrade apply */
  enabled: boolean;
  keep: number;
  recipients: string[];
  upload: UploadMode;
  retentionDays?: number;
  collectKubeadmBackups: boolean;
  externalEtcd?: ExternalEtcd;
  confirmRollback: string;
}

type Reader = (name: string) => string;

function parseBool(read: Reader, name: string, fallback: boolean, problems: InputProblem[]): boolean {
  const raw = read(name).trim().toLowerCase();
  if (raw === '') return fallback;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  problems.push({ input: name, problem: `${quoteValue(raw)} is not a boolean`, fix: 'write true or false' });
  return fallback;
}

function parseWhole(read: Reader, name: string, min: number, max: number, problems: InputProblem[]): number | undefined {
  const raw = read(name).trim();
  if (raw === '') return undefined;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    problems.push({ input: name, problem: `${quoteValue(raw)} is not a whole number from ${min} to ${max}`, fix: `write a number such as ${min}` });
    return undefined;
  }
  return value;
}

function parseExternalEtcd(read: Reader, problems: InputProblem[]): ExternalEtcd | undefined {
  const endpoints = read('etcd-endpoints').split(/[\s,]+/).filter(Boolean);
  const files = { caFile: read('etcd-ca').trim(), certFile: read('etcd-cert').trim(), keyFile: read('etcd-key').trim() };
  if (endpoints.length === 0 && !files.caFile && !files.certFile && !files.keyFile) return undefined;
  for (const url of endpoints) {
    if (!/^https?:\/\/[^\s/]+(:\d+)?\/?$/.test(url)) problems.push({ input: 'etcd-endpoints', problem: `${quoteValue(url)} is not an etcd client URL`, fix: 'write URLs such as https://10.0.0.5:2379, comma-separated' });
  }
  if (endpoints.length === 0) problems.push({ input: 'etcd-endpoints', problem: 'is empty while etcd-ca/etcd-cert/etcd-key are set', fix: 'list the external etcd client URLs' });
  for (const [input, value] of [['etcd-ca', files.caFile], ['etcd-cert', files.certFile], ['etcd-key', files.keyFile]] as const) {
    if (!value.startsWith('/')) problems.push({ input, problem: value ? `${quoteValue(value)} is not an absolute path` : 'is empty while etcd-endpoints is set', fix: 'give the file\'s path on the control-plane nodes, as in ClusterConfiguration etcd.external' });
  }
  return { endpoints, ...files };
}

export function parseBackupSettings(read: Reader): BackupSettings {
  const problems: InputProblem[] = [];
  const uploadRaw = read('backup-upload').trim() || 'encrypted';
  if (!['encrypted', 'unencrypted', 'none'].includes(uploadRaw)) {
    problems.push({ input: 'backup-upload', problem: `${quoteValue(uploadRaw)} is not a choice`, fix: 'write encrypted (default), unencrypted (private test clusters only) or none' });
  }
  const recipients = parseRecipients(read('backup-encryption-recipients'));
  for (const r of recipients) {
    const problem = recipientProblem(r);
    if (problem) problems.push({ input: 'backup-encryption-recipients', problem, fix: 'give age public keys (age1…), one per line; `age-keygen -y key.txt` prints one' });
  }
  const keep = parseWhole(read, 'backup-keep', 1, 1000, problems) ?? 3;
  const retentionDays = parseWhole(read, 'artifact-retention-days', 1, 400, problems);
  const settings: BackupSettings = {
    enabled: parseBool(read, 'backup', true, problems),
    keep,
    recipients,
    upload: uploadRaw as UploadMode,
    ...(retentionDays !== undefined ? { retentionDays } : {}),
    collectKubeadmBackups: parseBool(read, 'collect-kubeadm-backups', false, problems),
    confirmRollback: read('confirm-rollback').trim(),
  };
  const external = parseExternalEtcd(read, problems);
  if (external) settings.externalEtcd = external;
  if (problems.length > 0) throw new InputError(problems);
  return settings;
}
