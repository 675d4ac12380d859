// Which repository files are the Kubernetes packages': the one grep the probe, the repository switch and the
// backup share, run for real over files as nodes have them. CRI-O's pkgs.k8s.io repository is not one of them (the
// backup used to record whichever pkgs.k8s.io file came first, and the rollback then refreshed that one).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { findCoreRepoFilesCommand } from '../../../src/adapters/node/packages/manager.ts';

const dir = mkdtempSync(join(tmpdir(), 'repo-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('finds the files naming a pkgs.k8s.io core repository, and no other pkgs.k8s.io repository', () => {
  const apt = join(dir, 'sources.list.d');
  mkdirSync(apt);
  writeFileSync(
    join(apt, 'cri-o.list'),
    'deb [signed-by=/etc/apt/keyrings/cri-o-apt-keyring.gpg] https://pkgs.k8s.io/addons:/cri-o:/stable:/v1.30/deb/ /\n',
  );
  writeFileSync(
    join(apt, 'kubernetes.list'),
    'deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/v1.30/deb/ /\n',
  );
  writeFileSync(join(apt, 'debian.sources'), 'Types: deb\nURIs: http://deb.debian.org/debian\n');
  const [file, ...args] = findCoreRepoFilesCommand([apt, join(dir, 'sources.list')]);
  let out = '';
  try {
    out = execFileSync(file!, args, { encoding: 'utf8' });
  } catch (err) {
    out = (err as { stdout?: string }).stdout ?? ''; // grep exits 2 for the missing sources.list, after printing its matches
  }
  expect(out.trim().split('\n')).toEqual([join(apt, 'kubernetes.list')]);
});
