// A non-root login user on the nodes (`sim up --login-user ops`), as teams have it: an account in each node's
// own /etc/passwd, /etc/shadow (no usable password), /etc/group, a home under /var with the cluster's client key
// in ~/.ssh/authorized_keys, and sudo from /etc/sudoers.d/USER (mode 0440). RHEL-family nodes also set
// `Defaults requiretty` for everyone and `Defaults:USER !requiretty` (what RHEL 6/7 shipped, and what teams
// still add), Debian-family nodes keep Debian's plain sudoers. Everything goes into the node's overlay upper dir.
import { readFileSync, statSync } from 'node:fs';
import { chmod, chown, copyFile, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClusterSpec, LoginSpec, NodePaths, SimNodeSpec } from '../node/spec.ts';

const FIRST_ID = 2000;
const NAME = /^[a-z_][a-z0-9_-]{0,31}$/;

function hostIds(file: string): Set<number> {
  return new Set(
    readFileSync(file, 'utf8')
      .split('\n')
      .map((line) => Number(line.split(':')[2]))
      .filter(Number.isInteger),
  );
}

function hostHasUser(name: string): boolean {
  return readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .some((line) => line.split(':')[0] === name);
}

/** Why `name` cannot be the login user, or undefined. root is the default (no account is made). */
export function loginUserProblem(name: string): string | undefined {
  if (name === 'root') return undefined;
  if (!NAME.test(name)) return `must be a plain user name (lower-case letters, digits, _ and -, at most 32), got "${name}"`;
  if (hostHasUser(name))
    return `"${name}" already exists on this machine, and the nodes share its /etc/passwd underneath their own; choose a new name such as ops`;
  return undefined;
}

/** The user's account: the first uid (= gid) from 2000 on that this machine uses for neither a user nor a group. */
export function loginSpecFor(user: string, sudo: LoginSpec['sudo']): LoginSpec {
  const taken = new Set([...hostIds('/etc/passwd'), ...hostIds('/etc/group')]);
  let id = FIRST_ID;
  while (taken.has(id)) id++;
  return { user, uid: id, gid: id, home: `/var/home/${user}`, sudo };
}

/** RHEL-family nodes require a terminal for sudo, except for the login user; Debian-family nodes do not. */
function requiresTty(node: SimNodeSpec): boolean {
  return node.os === 'rhel';
}

function sudoersText(login: LoginSpec): string {
  const rule = login.sudo === 'nopasswd' ? 'NOPASSWD: ALL' : 'ALL';
  return `# the simulator's login user (sim/cluster/login.ts)\n${login.user} ALL=(ALL:ALL) ${rule}\n`;
}

function requirettyText(login: LoginSpec): string {
  return `# as RHEL shipped it: sudo only from a terminal, except for the automation user\nDefaults requiretty\nDefaults:${login.user} !requiretty\n`;
}

/** The host's file with the user's line added, written with the host file's owner group and mode. */
async function extend(hostFile: string, upperFile: string, line: string): Promise<void> {
  const host = statSync(hostFile);
  const text = readFileSync(hostFile, 'utf8');
  await writeFile(upperFile, `${text.endsWith('\n') || text === '' ? text : `${text}\n`}${line}\n`);
  await chown(upperFile, 0, host.gid);
  await chmod(upperFile, host.mode & 0o7777);
}

/** The account files under an /etc upper dir; `shell` /bin/sh on nodes, nologin on the bastion. */
export async function writeAccount(login: LoginSpec, upperEtc: string, home: string, shell: string): Promise<void> {
  await mkdir(upperEtc, { recursive: true });
  const days = Math.floor(Date.now() / 86_400_000);
  // `*`, not `!`: sshd without PAM refuses every login, keys included, to an account whose password starts with "!"
  await Promise.all([
    extend('/etc/passwd', join(upperEtc, 'passwd'), `${login.user}:x:${login.uid}:${login.gid}:simulated login user:${home}:${shell}`),
    extend('/etc/shadow', join(upperEtc, 'shadow'), `${login.user}:*:${days}:0:99999:7:::`),
    extend('/etc/group', join(upperEtc, 'group'), `${login.user}:x:${login.gid}:`),
  ]);
}

async function put(file: string, text: string, mode: number): Promise<void> {
  await writeFile(file, text);
  await chmod(file, mode);
}

/** Stand-ins a real node keeps in /usr/sbin (off a user's PATH); the others live in /usr/bin. */
const SBIN_TOOLS = new Set(['swapon']);

/** DIR/nodes/NAME/user-bin: links to the stand-ins that a real node has in /usr/bin, first on the login user's PATH. */
function userBinDir(paths: NodePaths): string {
  return join(paths.nodeDir, 'user-bin');
}

async function writeUserBin(paths: NodePaths, tools: readonly string[]): Promise<void> {
  const dir = userBinDir(paths);
  await mkdir(dir, { recursive: true });
  await Promise.all(tools.filter((t) => !SBIN_TOOLS.has(t)).map((t) => symlink(join(paths.bin, t), join(dir, t))));
}

/** The login user on one node: account, sudoers drop-ins, home with ~/.ssh/authorized_keys. */
export async function writeNodeLogin(
  spec: ClusterSpec,
  node: SimNodeSpec,
  paths: NodePaths,
  clientPub: string,
  tools: readonly string[],
): Promise<void> {
  const login = spec.login;
  if (!login) return;
  await writeUserBin(paths, tools);
  await writeAccount(login, paths.upperEtc, login.home, '/bin/sh');
  const sudoers = join(paths.upperEtc, 'sudoers.d');
  await mkdir(sudoers, { recursive: true, mode: 0o755 });
  await put(join(sudoers, login.user), sudoersText(login), 0o440);
  if (requiresTty(node)) await put(join(sudoers, '00-requiretty'), requirettyText(login), 0o440);
  const home = join(paths.upperVar, login.home.replace(/^\/var\//, ''));
  const ssh = join(home, '.ssh');
  await mkdir(ssh, { recursive: true });
  await copyFile(clientPub, join(ssh, 'authorized_keys'));
  for (const [path, mode] of [
    [home, 0o700],
    [ssh, 0o700],
    [join(ssh, 'authorized_keys'), 0o600],
  ] as const) {
    await chown(path, login.uid, login.gid);
    await chmod(path, mode);
  }
}

/**
 * The forced command runs as the login user and writes DIR/nodes/NAME/commands.log and DIR/faults-state.json
 * (atomically, by rename in DIR): DIR belongs to the user's group (0770; its secrets stay 0600/0700 root's),
 * every commands.log is group-writable.
 */
export async function shareWithLoginUser(spec: ClusterSpec): Promise<void> {
  const login = spec.login;
  if (!login) return;
  await chown(spec.dir, 0, login.gid);
  await chmod(spec.dir, 0o770);
  for (const node of spec.nodes) {
    const log = join(spec.dir, 'nodes', node.name, 'commands.log');
    await chown(log, 0, login.gid);
    await chmod(log, 0o664);
  }
}
