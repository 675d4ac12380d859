// The backup's part of the job summary and its outputs. Only names, sizes, checksums, snapshot status and
// versions: the manifest holds no secret, and nothing here reads a backed-up file.
import type { BackupOutcome } from './types.ts';

export function backupSummaryMarkdown(outcome: BackupOutcome): string {
  const m = outcome.manifest;
  const lines = [`### Backup \`${m.id}\``, '', `**Where:** ${outcome.reason}.`, ''];
  for (const w of outcome.warnings) lines.push(`> [!WARNING]`, `> ${w}`, '');
  const etcd = m.nodes.find((n) => n.etcd)?.etcd;
  if (etcd) {
    lines.push(
      `etcd snapshot (${etcd.external ? 'external etcd' : 'stacked'}, ${etcd.via === 'crictl' ? 'etcdctl in the etcd container' : 'etcdctl on the host'}): ` +
        `revision ${etcd.status.revision}, ${etcd.status.totalKey} keys, hash ${etcd.status.hash}, ${etcd.file.size} bytes, sha256 \`${etcd.file.sha256}\``,
      '',
    );
  }
  lines.push('| node | role | folder on the node | files.tar | kubeadm / kubelet / kubectl |', '| --- | --- | --- | --- | --- |');
  for (const n of m.nodes) {
    const v = n.versions.packages;
    lines.push(
      `| ${n.node} | ${n.role} | \`${n.nodeDir}\` | ${n.files.size} B, sha256 \`${n.files.sha256.slice(0, 12)}…\` | ${v.kubeadm ?? '?'} / ${v.kubelet ?? '?'} / ${v.kubectl ?? '?'} |`,
    );
  }
  if (m.archive)
    lines.push(
      '',
      `Archive \`${m.archive.name}\`: ${m.archive.size} bytes, sha256 \`${m.archive.sha256}\`${m.archive.encrypted ? `, age-encrypted to ${m.archive.recipients} recipient(s)` : ', NOT encrypted'}.`,
    );
  if (outcome.artifactName) lines.push('', `Artifact: \`${outcome.artifactName}\`. To decrypt and restore, see docs/restore.md.`);
  return `${lines.join('\n')}\n`;
}

export function backupOutputs(outcome: BackupOutcome): Record<string, string> {
  return {
    'backup-path': outcome.backupPath ?? '',
    'backup-artifact': outcome.artifactName ?? '',
    'backup-id': outcome.manifest.id,
  };
}
