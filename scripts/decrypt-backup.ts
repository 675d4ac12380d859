// Decrypts and unpacks a backup artifact downloaded from a run of kubeadm-upgrade-action.
//
//   node scripts/decrypt-backup.ts --identity ~/.age/backup-key.txt --in kubeadm-backup-prod-run-123.tar.age --out ./restore
//
// The identity is read from a file (or from standard input with --identity -), never from the command line,
// so it does not end up in shell history or process listings. Every file is checked against the manifest.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { decryptBackup, parseIdentityFile } from '../src/backup/unpack.ts';

const usage = 'usage: node scripts/decrypt-backup.ts --identity FILE|- --in BACKUP.tar.age --out DIR';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { identity: { type: 'string' }, in: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean' } },
  });
  if (values.help || !values.identity || !values.in || !values.out) {
    console.error(usage);
    return values.help ? 0 : 2;
  }
  const identities = parseIdentityFile(readFileSync(values.identity === '-' ? 0 : values.identity, 'utf8'));
  const manifest = await decryptBackup(values.in, identities, values.out);
  console.log(
    `unpacked backup ${manifest.id} of cluster ${manifest.cluster} (run ${manifest.runId}) into ${values.out}; every file matches the manifest`,
  );
  for (const node of manifest.nodes) {
    const snap = node.etcd ? `, etcd snapshot revision ${node.etcd.status.revision} (${node.etcd.status.totalKey} keys)` : '';
    console.log(`  ${node.node} (${node.role}): files.tar${snap}; kubeadm ${node.versions.packages.kubeadm ?? '?'}`);
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`decrypt-backup: ${error.message}`);
    process.exit(1);
  },
);
