// Makes sure the system programs the cluster simulator needs are installed.
// As root on Debian/Ubuntu it installs what is missing with apt-get; elsewhere it stops and prints the command.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** program → Debian package that provides it */
const needed: Record<string, string> = {
  sshd: 'openssh-server',
  ssh: 'openssh-client',
  'ssh-keygen': 'openssh-client',
  etcd: 'etcd-server',
  etcdctl: 'etcd-client',
  openssl: 'openssl',
  unshare: 'util-linux',
  ip: 'iproute2',
  kubectl: 'kubernetes-client',
  // the nodes' non-root login user (sim up --login-user) gets root through Debian's sudo
  sudo: 'sudo',
  // the real package managers on the nodes and what builds the simulated pkgs.k8s.io (sim/pkgs)
  'apt-ftparchive': 'apt-utils',
  dnf: 'dnf',
  rpmbuild: 'rpm',
  rpmsign: 'rpm',
  createrepo_c: 'createrepo-c',
  gpg: 'gnupg',
  setfattr: 'attr',
};

/** files (not programs) → Debian package */
const neededFiles: Record<string, string> = {
  '/usr/lib/python3/dist-packages/dnf-plugins/versionlock.py': 'dnf-plugins-core',
};

const searchPath = (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin']);
const has = (program: string) => searchPath.some((dir) => dir && existsSync(`${dir}/${program}`));
const missing = [
  ...new Set([
    ...Object.entries(needed)
      .filter(([p]) => !has(p))
      .map(([, pkg]) => pkg),
    ...Object.entries(neededFiles)
      .filter(([file]) => !existsSync(file))
      .map(([, pkg]) => pkg),
  ]),
];

if (missing.length > 0) {
  const command = `apt-get update && apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  const isRoot = process.getuid?.() === 0;
  if (!isRoot || !has('apt-get')) {
    console.error(`The cluster simulator needs: ${missing.join(', ')}.\nInstall them as root, then run this again:\n  ${command}`);
    process.exit(1);
  }
  console.error(`Installing what the cluster simulator needs: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [
    ['update', '-qq'],
    ['install', '-y', '-qq', '--no-install-recommends', ...missing],
  ]) {
    const result = spawnSync('apt-get', args, { stdio: 'inherit', env });
    if (result.status !== 0) {
      console.error(`apt-get ${args.join(' ')} failed (exit ${result.status}). Run it by hand:\n  ${command}`);
      process.exit(1);
    }
  }
}
