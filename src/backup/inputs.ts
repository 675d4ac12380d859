// Pure checks of the backup inputs, used by parseSettings (src/core/settings.ts parses every input; this file
// only says what is wrong with a value). Nothing here connects anywhere.
import { quoteValue, type InputProblem } from '../core/errors.ts';
import { parseRecipients, recipientProblem } from './encrypt.ts';
import type { ExternalEtcd } from './node-backup.ts';
import { isBackupId } from './retention.ts';
import type { RollbackSource } from './rollback-source.ts';

export type { BackupSettings } from '../core/settings.ts';

type Fail = { problem: string; fix: string };

/** backup-encryption-recipients: age public keys, one per line or comma-separated, `#` comments. */
export function parseRecipientsInput(text: string): string[] | Fail {
  const recipients = parseRecipients(text);
  const problems = recipients.map(recipientProblem).filter((p): p is string => p !== undefined);
  if (problems.length > 0) return { problem: problems.join('; '), fix: 'give age public keys (age1…), one per line; `age-keygen -y key.txt` prints one' };
  return recipients;
}

/** etcd-endpoints: external etcd client URLs, comma- or space-separated. */
export function parseEtcdEndpoints(text: string): string[] | Fail {
  const endpoints = text.split(/[\s,]+/).filter(Boolean);
  const bad = endpoints.find((url) => !/^https?:\/\/[^\s/]+(:\d+)?\/?$/.test(url));
  if (bad !== undefined) return { problem: `${quoteValue(bad)} is not an etcd client URL`, fix: 'write URLs such as https://10.0.0.5:2379, comma-separated' };
  return endpoints;
}

/** etcd-ca / etcd-cert / etcd-key: paths on the control-plane nodes, never PEM text. */
export function parseNodePath(text: string): string | undefined | Fail {
  if (text === '') return undefined;
  if (text.includes('-----BEGIN')) return { problem: 'holds PEM text, not a path (the value is not shown)', fix: 'give the file\'s path on the control-plane nodes, as in ClusterConfiguration etcd.external; no key material passes through the action' };
  if (!text.startsWith('/') || /[\0\n\r]/.test(text)) return { problem: `${quoteValue(text)} is not an absolute path`, fix: 'give the file\'s path on the control-plane nodes, as in ClusterConfiguration etcd.external' };
  return text;
}

/** The external etcd settings from the four inputs, or the problems when they are set only in part. */
export function externalEtcdFrom(endpoints: string[], files: { caFile?: string; certFile?: string; keyFile?: string }, problems: InputProblem[]): ExternalEtcd | undefined {
  const given = [files.caFile, files.certFile, files.keyFile].filter(Boolean).length;
  if (endpoints.length === 0 && given === 0) return undefined;
  if (endpoints.length === 0) problems.push({ input: 'etcd-endpoints', problem: 'is empty while etcd-ca/etcd-cert/etcd-key are set', fix: 'list the external etcd client URLs, or leave all four empty for stacked etcd' });
  for (const [input, value] of [['etcd-ca', files.caFile], ['etcd-cert', files.certFile], ['etcd-key', files.keyFile]] as const) {
    if (!value) problems.push({ input, problem: 'is empty while etcd-endpoints is set', fix: 'give the file\'s path on the control-plane nodes, as in ClusterConfiguration etcd.external' });
  }
  return { endpoints, caFile: files.caFile ?? '', certFile: files.certFile ?? '', keyFile: files.keyFile ?? '' };
}

/**
 * rollback-source: empty = the newest backup this action made on the nodes; a backup id (the failed run's
 * `backup-id` output) = that backup on the nodes; anything else = a folder on the runner holding a decrypted,
 * unpacked backup artifact (absolute, or relative to the workspace).
 */
export function parseRollbackSource(text: string, workspace: string | undefined): RollbackSource | Fail {
  if (text === '' || text === 'node') return { kind: 'node' };
  if (isBackupId(text)) return { kind: 'node', id: text };
  if (/[\0\n\r]/.test(text) || text.startsWith('-')) return { problem: `${quoteValue(text)} is neither a backup id nor a folder`, fix: 'leave it empty (newest backup on the nodes), give a backup id such as 20250101T120000Z-4242 (the backup-id output), or a folder holding a decrypted backup (docs/restore.md)' };
  if (text.startsWith('/')) return { kind: 'runner', dir: text };
  if (!workspace) return { problem: `${quoteValue(text)} is a relative folder, but GITHUB_WORKSPACE is not set`, fix: 'give an absolute path on the runner' };
  return { kind: 'runner', dir: `${workspace.replace(/\/+$/, '')}/${text}` };
}
