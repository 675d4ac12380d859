// A node's package setup as the kubeadm install guide leaves it, made by the real tools: the repository file and
// signing key of pkgs.k8s.io, `apt-get update` / dnf's metadata fetched, kubeadm, kubelet and kubectl installed at
// the node's version and held (apt-mark hold) or versionlocked. Made once per (OS, version, repository content) in a
// throwaway mount namespace over the host's /etc, /var, /usr and /opt, kept as the overlay upper directories, and
// copied into each node's own upper directories before the node starts.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { copyFile, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { repoFile } from '../cluster/configs.ts';
import { NODE_OVERLAYS } from '../node/spec.ts';
import { debVersion, KUBE_PACKAGES, rpmVersion } from './catalog.ts';
import { madeOnce, type MinorRepo, type SigningKey } from './build.ts';

const run = promisify(execFile);
const RECIPE = 'template-3';
const HOST_KUBE_TOOLING = ['kubernetes-client', ...KUBE_PACKAGES, 'cri-tools', 'kubernetes-cni'];
const OVERLAID = NODE_OVERLAYS;

export interface PackageSetup {
  os: 'debian' | 'rhel';
  /** Kubernetes version installed ("1.30.5") */
  version: string;
  /** the minor's repository the node's repository file names */
  repo: MinorRepo;
  /** rhel: whether dnf's versionlock plugin is installed (Debian's dnf-plugins-core provides it) */
  versionlock: boolean;
}

async function put(file: string, content: string | Buffer, mode = 0o644): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, content, { mode });
}

/** An overlay whiteout: the lower layer's file does not exist in this node. */
async function whiteout(file: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await rm(file, { force: true, recursive: true });
  await run('mknod', [file, 'c', '0', '0']);
}

/** An opaque directory: nothing of the lower layer's directory shows through. */
async function opaque(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await run('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', dir]);
}

const DEBIAN_TOOLS = ['apt', 'apt-get', 'apt-cache', 'apt-mark', 'apt-config', 'dpkg', 'dpkg-query', 'dpkg-deb'];
const RHEL_TOOLS = ['dnf', 'dnf-3', 'yum', 'rpm', 'rpmkeys', 'rpmdb', 'rpmquery'];

const ROCKY_OS_RELEASE = [
  'NAME="Rocky Linux"',
  'VERSION="9.4 (Blue Onyx)"',
  'ID="rocky"',
  'ID_LIKE="rhel centos fedora"',
  'VERSION_ID="9.4"',
  'PLATFORM_ID="platform:el9"',
  'PRETTY_NAME="Rocky Linux 9.4 (Blue Onyx)"',
  '',
].join('\n');

/** The CA bundle every node trusts: the host's, plus the CA of the simulated pkgs.k8s.io. */
function caBundle(key: SigningKey): string {
  const host = existsSync('/etc/ssl/certs/ca-certificates.crt') ? readFileSync('/etc/ssl/certs/ca-certificates.crt', 'utf8') : '';
  return `${host.trimEnd()}\n${readFileSync(key.webCa, 'utf8')}`;
}

/** /etc/hosts of a node: the host's, with pkgs.k8s.io at the simulated server's address. */
export function hostsFile(pkgsAddress: string): string {
  const host = existsSync('/etc/hosts') ? readFileSync('/etc/hosts', 'utf8') : '127.0.0.1 localhost\n';
  const kept = host
    .split('\n')
    .filter((line) => !/\spkgs\.k8s\.io(\s|$)/.test(line))
    .join('\n')
    .trimEnd();
  return `${kept}\n${pkgsAddress} pkgs.k8s.io\n`;
}

/** What the install guide and the OS put in place before anything is installed. */
async function writeBase(upper: string, setup: PackageSetup, key: SigningKey): Promise<void> {
  const etc = join(upper, 'etc');
  await put(join(etc, 'ssl/certs/ca-certificates.crt'), caBundle(key));
  const repo = repoFile(setup);
  if (setup.os === 'debian') {
    // a node's apt knows only its own sources and lists, never the host's
    for (const dir of ['etc/apt', 'var/lib/apt/lists', 'var/cache/apt']) await opaque(join(upper, dir));
    for (const dir of ['apt.conf.d', 'preferences.d', 'trusted.gpg.d', 'auth.conf.d', 'sources.list.d'])
      await mkdir(join(etc, 'apt', dir), { recursive: true });
    await mkdir(join(upper, 'var/lib/apt/lists/partial'), { recursive: true });
    await mkdir(join(upper, 'var/cache/apt/archives/partial'), { recursive: true });
    await mkdir(join(etc, 'apt/keyrings'), { recursive: true, mode: 0o755 });
    await copyFile(key.aptKeyring, join(etc, 'apt/keyrings/kubernetes-apt-keyring.gpg'));
    await put(join(upper, repo.path), repo.text);
    for (const tool of RHEL_TOOLS) await whiteout(join(upper, 'usr/bin', tool));
    return;
  }
  await opaque(join(etc, 'yum.repos.d'));
  await put(join(upper, repo.path), repo.text);
  await put(join(etc, 'os-release'), ROCKY_OS_RELEASE);
  await put(join(etc, 'rpm/macros'), '%_dbpath /var/lib/rpm\n');
  await put(
    join(etc, 'dnf/dnf.conf'),
    '[main]\ngpgcheck=1\ninstallonly_limit=3\nclean_requirements_on_remove=True\nbest=True\nskip_if_unavailable=False\n',
  );
  await put(join(etc, 'dnf/vars/releasever'), '9\n');
  // Debian's dnf-plugins-core enables its "local" repository plugin; EL does not ship it
  await put(join(etc, 'dnf/plugins/local.conf'), '[main]\nenabled = false\n');
  if (!setup.versionlock) {
    await whiteout(join(upper, 'usr/lib/python3/dist-packages/dnf-plugins/versionlock.py'));
    await whiteout(join(etc, 'dnf/plugins/versionlock.conf'));
    await whiteout(join(etc, 'dnf/plugins/versionlock.list'));
  } else {
    await put(join(etc, 'dnf/plugins/versionlock.list'), '');
  }
  for (const tool of DEBIAN_TOOLS) await whiteout(join(upper, 'usr/bin', tool));
  await rm(join(upper, 'usr/bin/yum'), { force: true });
  await symlink('dnf-3', join(upper, 'usr/bin/yum'));
}

function installScript(setup: PackageSetup): string {
  const mounts = OVERLAID.map((d) => `mount -t overlay overlay -o "lowerdir=/${d},upperdir=$1/upper/${d},workdir=$1/work/${d}" /${d}`).join(
    '\n',
  );
  const names = KUBE_PACKAGES.join(' ');
  if (setup.os === 'debian') {
    const pins = KUBE_PACKAGES.map((n) => `${n}=${debVersion(setup.version)}`).join(' ');
    return [
      'set -e',
      mounts,
      'export DEBIAN_FRONTEND=noninteractive',
      // whatever kube tooling the host has installed (Debian's kubernetes-client, a cloud SDK's kubectl) is not on the node
      `for p in ${HOST_KUBE_TOOLING.join(' ')}; do if dpkg-query -W -f='\${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then dpkg --purge --force-depends "$p" >/dev/null; fi; done`,
      'apt-get update -qq',
      `apt-get install -y -qq --no-install-recommends ${pins} >/dev/null`,
      `apt-mark hold ${names} >/dev/null`,
    ].join('\n');
  }
  const specs = KUBE_PACKAGES.map((n) => `${n}-${rpmVersion(setup.version)}`).join(' ');
  return [
    'set -e',
    mounts,
    `dnf install -y -q ${specs} --disableexcludes=kubernetes >/dev/null`,
    ...(setup.versionlock ? [`dnf versionlock add ${names} >/dev/null`] : []),
    // dnf's repo_gpgcheck starts gpg agents for its keyrings; they are ours to stop
    'for h in /var/cache/dnf/*/pubring; do [ -d "$h" ] && gpgconf --homedir "$h" --kill all; done',
    'true',
  ].join('\n');
}

function hostDpkgStamp(): string {
  try {
    const st = statSync('/var/lib/dpkg/status');
    return `${st.size}-${st.mtimeMs}`;
  } catch {
    return 'none';
  }
}

/** The upper directories of a node set up as `setup` says; made with the real tools unless cached. */
export async function ensureTemplate(cache: string, key: SigningKey, setup: PackageSetup, pkgsAddress: string): Promise<string> {
  const hash = createHash('sha256')
    .update(JSON.stringify([RECIPE, setup.os, setup.version, setup.versionlock, setup.repo.dir, key.fingerprint, hostDpkgStamp()]))
    .digest('hex')
    .slice(0, 16);
  const final = join(cache, 'templates', `${setup.os}-${setup.version}-${hash}`);
  await madeOnce(final, async (tmp) => {
    for (const d of OVERLAID) {
      await mkdir(join(tmp, 'upper', d), { recursive: true });
      await mkdir(join(tmp, 'work', d), { recursive: true });
    }
    const upper = join(tmp, 'upper');
    await writeBase(upper, setup, key);
    await put(join(upper, 'etc/hosts'), hostsFile(pkgsAddress));
    try {
      await run('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', installScript(setup), 'sh', tmp], {
        maxBuffer: 16 * 1024 * 1024,
      });
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string; message: string };
      throw new Error(
        `installing the ${setup.os} packages of ${setup.version} failed: ${(e.stderr || e.stdout || e.message).trim().slice(-2000)}`,
      );
    }
    await rm(join(tmp, 'work'), { recursive: true, force: true });
    // per node, written after the copy
    await rm(join(upper, 'etc/hosts'), { force: true });
  });
  return join(final, 'upper');
}

/** Copies a template's upper directories into a node's (which may already hold other files). */
export async function copyTemplate(template: string, nodeUpper: string): Promise<void> {
  await mkdir(nodeUpper, { recursive: true });
  await run('cp', ['-a', `${template}/.`, `${nodeUpper}/`]);
}
