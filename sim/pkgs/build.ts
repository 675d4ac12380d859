// Builds the simulated pkgs.k8s.io with the real tools: a GnuPG release key, .deb files (dpkg-deb) and .rpm files
// (rpmbuild, signed with rpmsign), and per minor a flat apt repository (apt-ftparchive, signed InRelease and
// Release.gpg) and a dnf repository (createrepo_c, signed repomd.xml, its key at repodata/repomd.xml.key), laid out
// as pkgs.k8s.io lays them out (/core:/stable:/v1.31/deb/, /core:/stable:/v1.31/rpm/).
//
// Everything is cached under node_modules/.cache/sim-pkgs, keyed by what it is made of, and made in a temporary
// directory renamed into place, so clusters started at once share the work and never see half a build.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, copyFile, link, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { createCA, issueCert } from '../lib/pki.ts';
import {
  companionPackages,
  debFileName,
  debVersion,
  forFormat,
  kubePackages,
  packageUpstream,
  RPM_RELEASE,
  rpmFileName,
  type PackageDef,
} from './catalog.ts';

const run = promisify(execFile);

/** Bump when what a build makes changes shape: every cached build is then made again. */
const RECIPE = 'pkgs-1';
const KEY_NAME = 'Simulated pkgs.k8s.io release key';

export function pkgsCacheDir(repoRoot: string): string {
  return join(repoRoot, 'node_modules', '.cache', 'sim-pkgs');
}

async function tool(file: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  try {
    const { stdout } = await run(file, args, { maxBuffer: 64 * 1024 * 1024, ...options });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${file} ${args.slice(0, 3).join(' ')} failed: ${(e.stderr || e.message).trim().split('\n').slice(-5).join('\n')}`);
  }
}

const LOCK_GIVE_UP_MS = 15 * 60_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * One builder of `final` at a time across processes (test files start clusters at once): the others wait and then
 * find it made. The lock is a directory holding the builder's pid; a dead builder's lock is taken over.
 */
async function withBuildLock<T>(final: string, work: () => Promise<T>): Promise<T> {
  const lock = `${final}.lock`;
  const started = Date.now();
  for (;;) {
    try {
      await mkdir(lock);
      await writeFile(join(lock, 'pid'), `${process.pid}\n`);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(await readFile(join(lock, 'pid'), 'utf8').catch(() => ''));
      // a lock without a pid yet is being taken right now; one whose pid is gone was left by a crash
      if (holder > 0 && !alive(holder)) await rm(lock, { recursive: true, force: true });
      if (Date.now() - started > LOCK_GIVE_UP_MS) throw new Error(`${lock} is still held by process ${holder} after 15 minutes`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  try {
    return await work();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

/**
 * Makes `final` with `make(tmp)` unless it exists, one process at a time; the result appears at once (a rename),
 * so a reader never sees half of it.
 */
export async function madeOnce(final: string, make: (tmp: string) => Promise<void>): Promise<string> {
  if (existsSync(final)) return final;
  await mkdir(dirname(final), { recursive: true });
  return withBuildLock(final, () => makeNow(final, make));
}

async function makeNow(final: string, make: (tmp: string) => Promise<void>): Promise<string> {
  if (existsSync(final)) return final;
  const tmp = `${final}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await mkdir(tmp, { recursive: true });
  try {
    await make(tmp);
    await rename(tmp, final).catch((err: NodeJS.ErrnoException) => {
      if (!existsSync(final)) throw err;
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return final;
}

export interface SigningKey {
  dir: string;
  gnupgHome: string;
  /** the binary keyring the install guide puts at /etc/apt/keyrings/kubernetes-apt-keyring.gpg */
  aptKeyring: string;
  /** the armored public key served at repodata/repomd.xml.key */
  armoredKey: string;
  fingerprint: string;
  /** the CA that signs the HTTPS certificate of pkgs.k8s.io; nodes trust it through their CA bundle */
  webCa: string;
  serverCert: string;
  serverKey: string;
}

function keyPaths(dir: string, fingerprint = ''): SigningKey {
  return {
    dir,
    gnupgHome: join(dir, 'gnupg'),
    aptKeyring: join(dir, 'kubernetes-apt-keyring.gpg'),
    armoredKey: join(dir, 'repomd.xml.key'),
    fingerprint,
    webCa: join(dir, 'web', 'ca.crt'),
    serverCert: join(dir, 'web', 'pkgs.k8s.io.crt'),
    serverKey: join(dir, 'web', 'pkgs.k8s.io.key'),
  };
}

/** gpg starts an agent for secret-key work; it is ours to stop once the work is done. */
async function stopAgent(gnupgHome: string): Promise<void> {
  await run('gpgconf', ['--kill', 'all'], { env: { ...process.env, GNUPGHOME: gnupgHome } }).catch(() => undefined);
}

/**
 * Runs `work` with a private copy of the key's GnuPG home: its agent is this work's alone, stopped afterwards,
 * so builds running at once (here or in another process) never stop each other's agent mid-signature.
 */
async function withGnupg<T>(key: SigningKey, work: (home: string) => Promise<T>): Promise<T> {
  const home = await mkdtemp(join(tmpdir(), 'sim-gpg-'));
  try {
    await tool('cp', ['-a', `${key.gnupgHome}/.`, `${home}/`]);
    return await work(home);
  } finally {
    await stopAgent(home);
    await rm(home, { recursive: true, force: true });
  }
}

async function gpg(home: string, args: string[], cwd?: string): Promise<string> {
  return tool('gpg', ['--batch', '--yes', '--quiet', '--homedir', home, ...args], { cwd });
}

export async function ensureSigningKey(cache: string): Promise<SigningKey> {
  const dir = await madeOnce(join(cache, `key-${RECIPE}`), async (tmp) => {
    // the agent's socket lives in the home: keep the path short and stop the agent before the rename
    const home = join(tmp, 'gnupg');
    await mkdir(home, { recursive: true, mode: 0o700 });
    try {
      await gpg(home, ['--passphrase', '', '--quick-gen-key', `${KEY_NAME} <sim@pkgs.k8s.io>`, 'rsa2048', 'sign', 'never']);
      const paths = keyPaths(tmp);
      await writeFile(paths.aptKeyring, await runBuffer('gpg', ['--batch', '--homedir', home, '--export']));
      await writeFile(paths.armoredKey, await gpg(home, ['--armor', '--export']));
    } finally {
      await stopAgent(home);
    }
    const web = join(tmp, 'web');
    const ca = await createCA(web, 'ca', 'Simulated web CA');
    await issueCert({ ca, outDir: web, name: 'pkgs.k8s.io', cn: 'pkgs.k8s.io', dnsNames: ['pkgs.k8s.io'], usage: 'server', days: 3650 });
  });
  const listing = await gpg(join(dir, 'gnupg'), ['--with-colons', '--list-keys']);
  const fingerprint = /^fpr:+([0-9A-F]+):/m.exec(listing)?.[1] ?? '';
  return keyPaths(dir, fingerprint);
}

async function runBuffer(file: string, args: string[]): Promise<Buffer> {
  const { stdout } = await promisify(execFile)(file, args, { encoding: 'buffer', maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

// ---- .deb ----

function debControl(pkg: PackageDef): string {
  const depends = pkg.depends.map(([name, min]) => `${name} (>= ${min})`).join(', ');
  return [
    `Package: ${pkg.name}`,
    `Version: ${debVersion(pkg.version)}`,
    'Architecture: amd64',
    'Maintainer: Kubernetes Authors <dev@kubernetes.io>',
    ...(depends ? [`Depends: ${depends}`] : []),
    'Section: admin',
    'Priority: optional',
    'Homepage: https://kubernetes.io',
    `Description: ${pkg.summary}`,
    ' Built by the cluster simulator; its executables run the simulator’s stand-ins.',
    '',
  ].join('\n');
}

async function buildDeb(pkg: PackageDef, outDir: string): Promise<void> {
  const out = join(outDir, debFileName(pkg));
  if (existsSync(out)) return;
  // a private scratch directory, then one rename of the file: a concurrent build of the same package is harmless
  const scratch = join(outDir, `.build-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const root = join(scratch, 'root');
    await mkdir(join(root, 'DEBIAN'), { recursive: true });
    for (const file of pkg.files) {
      await mkdir(join(root, dirname(file.path)), { recursive: true });
      await writeFile(join(root, file.path), file.content);
      await chmod(join(root, file.path), file.mode);
    }
    await writeFile(join(root, 'DEBIAN', 'control'), debControl(pkg));
    const conffiles = pkg.files.filter((f) => f.config).map((f) => `${f.path}\n`);
    if (conffiles.length > 0) await writeFile(join(root, 'DEBIAN', 'conffiles'), conffiles.join(''));
    await tool('dpkg-deb', ['--root-owner-group', '-Znone', '--build', root, join(scratch, 'pkg.deb')]);
    await rename(join(scratch, 'pkg.deb'), out);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

// ---- .rpm ----

function rpmSpec(pkgs: PackageDef[], version: string): string {
  const lines = [
    'Name: sim-kubernetes',
    `Version: ${packageUpstream(version)}`,
    `Release: ${RPM_RELEASE}`,
    'Summary: Kubernetes packages built by the cluster simulator',
    'License: Apache-2.0',
    'BuildArch: x86_64',
    'AutoReqProv: no',
    '%description',
    'Kubernetes packages built by the cluster simulator.',
  ];
  for (const pkg of pkgs) {
    lines.push(`%package -n ${pkg.name}`, `Version: ${packageUpstream(pkg.version)}`, `Summary: ${pkg.summary}`, 'AutoReqProv: no');
    for (const [name, min] of pkg.depends) lines.push(`Requires: ${name} >= ${min}`);
    lines.push(`%description -n ${pkg.name}`, `${pkg.summary}.`);
  }
  lines.push('%install', 'cp -a %{_sourcedir}/root/. %{buildroot}/');
  for (const pkg of pkgs) {
    lines.push(`%files -n ${pkg.name}`);
    for (const file of pkg.files) lines.push(file.config ? `%config(noreplace) ${file.path}` : file.path);
  }
  return `${lines.join('\n')}\n`;
}

/** One rpmbuild for packages sharing a spec (each subpackage keeps its own version), signed. */
async function buildRpms(pkgs: PackageDef[], specVersion: string, outDir: string, key: SigningKey): Promise<void> {
  if (pkgs.every((p) => existsSync(join(outDir, rpmFileName(p))))) return;
  const scratch = join(outDir, `.build-${specVersion}-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const root = join(scratch, 'SOURCES', 'root');
    for (const file of pkgs.flatMap((p) => p.files)) {
      await mkdir(join(root, dirname(file.path)), { recursive: true });
      await writeFile(join(root, file.path), file.content);
      await chmod(join(root, file.path), file.mode);
    }
    await writeFile(join(scratch, 'sim.spec'), rpmSpec(pkgs, specVersion));
    const defines = [
      ['_topdir', scratch],
      ['_binary_payload', 'w0.ufdio'],
      ['__os_install_post', '%{nil}'],
      ['debug_package', '%{nil}'],
      ['_build_id_links', 'none'],
      ['_dbpath', join(scratch, 'rpmdb')],
    ].flatMap(([name, value]) => ['--define', `${name} ${value}`]);
    await tool('rpmbuild', ['-bb', ...defines, join(scratch, 'sim.spec')]);
    const built = pkgs.map((p) => join(scratch, 'RPMS', 'x86_64', rpmFileName(p)));
    await withGnupg(key, (home) =>
      tool('rpmsign', ['--define', `_gpg_name ${KEY_NAME}`, '--define', '__gpg /usr/bin/gpg', '--addsign', ...built], {
        env: { ...process.env, GNUPGHOME: home },
      }),
    );
    for (const [i, pkg] of pkgs.entries()) await rename(built[i]!, join(outDir, rpmFileName(pkg)));
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

// ---- repositories ----

export interface MinorRepo {
  minor: string;
  /** the directory served as /core:/stable:/v<minor>/ (holds deb/ and rpm/) */
  dir: string;
}

function minorPackages(minor: string, versions: readonly string[]): PackageDef[] {
  return [...versions.flatMap((v) => kubePackages(v)), ...companionPackages(minor)];
}

async function linkOrCopy(from: string, to: string): Promise<void> {
  await link(from, to).catch(() => copyFile(from, to));
}

async function signRelease(home: string, dir: string): Promise<void> {
  await gpg(home, ['--local-user', KEY_NAME, '--clearsign', '-o', 'InRelease', 'Release'], dir);
  await gpg(home, ['--local-user', KEY_NAME, '--armor', '--detach-sign', '-o', 'Release.gpg', 'Release'], dir);
}

async function makeDebRepo(dir: string, pkgs: PackageDef[], pool: string, home: string, minor: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const pkg of pkgs) await linkOrCopy(join(pool, debFileName(pkg)), join(dir, debFileName(pkg)));
  await writeFile(join(dir, 'Packages'), await tool('apt-ftparchive', ['packages', '.'], { cwd: dir }));
  await tool('gzip', ['-9nk', 'Packages'], { cwd: dir });
  const label = `isv:kubernetes:core:stable:v${minor}`;
  const release = await tool(
    'apt-ftparchive',
    [
      '-o',
      `APT::FTPArchive::Release::Origin=obs://build.opensuse.org/${label}/deb`,
      '-o',
      `APT::FTPArchive::Release::Label=${label}`,
      'release',
      '.',
    ],
    { cwd: dir },
  );
  await writeFile(join(dir, 'Release'), release);
  await signRelease(home, dir);
}

async function makeRpmRepo(dir: string, pkgs: PackageDef[], pool: string, home: string, key: SigningKey): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const pkg of pkgs) await linkOrCopy(join(pool, rpmFileName(pkg)), join(dir, rpmFileName(pkg)));
  await tool('createrepo_c', ['--quiet', '--no-database', '.'], { cwd: dir });
  await gpg(home, ['--local-user', KEY_NAME, '--armor', '--detach-sign', '-o', 'repomd.xml.asc', 'repomd.xml'], join(dir, 'repodata'));
  await copyFile(key.armoredKey, join(dir, 'repodata', 'repomd.xml.key'));
}

/** Runs `work` over `items`, at most `limit` at a time. */
async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: Math.min(limit, queue.length) }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
    }),
  );
}

/** The repositories of one minor holding `versions` (its patches), built and signed unless cached. */
export async function ensureMinorRepo(cache: string, key: SigningKey, minor: string, versions: readonly string[]): Promise<MinorRepo> {
  const sorted = [...versions].sort();
  const hash = createHash('sha256')
    .update(JSON.stringify([RECIPE, key.fingerprint, minor, sorted]))
    .digest('hex')
    .slice(0, 16);
  const final = join(cache, 'repos', `v${minor}-${hash}`);
  if (existsSync(final)) return { minor, dir: final };
  await mkdir(dirname(final), { recursive: true });
  await withBuildLock(final, () => buildMinorRepo(cache, key, minor, sorted, final));
  return { minor, dir: final };
}

async function buildMinorRepo(cache: string, key: SigningKey, minor: string, sorted: string[], final: string): Promise<void> {
  if (existsSync(final)) return;
  const pool = { deb: join(cache, 'pool', 'deb'), rpm: join(cache, 'pool', 'rpm') };
  await Promise.all([mkdir(pool.deb, { recursive: true }), mkdir(pool.rpm, { recursive: true })]);
  const pkgs = minorPackages(minor, sorted);
  for (const pkg of pkgs) await buildDeb(forFormat(pkg, 'deb'), pool.deb);
  const specs: [PackageDef[], string][] = [
    ...sorted.map((v): [PackageDef[], string] => [kubePackages(v).map((p) => forFormat(p, 'rpm')), v]),
    [companionPackages(minor), `${minor}.0`],
  ];
  await eachLimited(specs, 2, ([group, version]) => buildRpms(group, version, pool.rpm, key));
  await makeNow(final, (tmp) =>
    withGnupg(key, async (home) => {
      await makeDebRepo(join(tmp, 'deb'), pkgs, pool.deb, home, minor);
      await makeRpmRepo(join(tmp, 'rpm'), pkgs, pool.rpm, home, key);
    }),
  );
}
