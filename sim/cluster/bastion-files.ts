// The bastion's files (sim/node/bastion.ts runs it): host key, sshd_config, the login user's account (shell
// nologin) in its own /etc upper dir, and the client key as the only authorized key.
import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { bastionPaths, type ClusterSpec } from '../node/spec.ts';
import { sshdBaseline } from '../node/sshd.ts';
import { writeAccount } from './login.ts';

const execFileAsync = promisify(execFile);

/** Forwards to the nodes' sshd only; DEBUG1 so the log shows each direct-tcpip forward and its target. */
function bastionSshdConfig(spec: ClusterSpec): string {
  const { bastion, login } = spec;
  if (!bastion || !login) throw new Error('the bastion needs a login user other than root (--login-user)');
  const paths = bastionPaths(spec.dir);
  return [
    `ListenAddress ${bastion.address}:${bastion.port}`,
    `HostKey ${paths.hostKey}`,
    `AuthorizedKeysFile ${paths.authorizedKeys}`,
    `AllowUsers ${login.user}`,
    ...sshdBaseline('no', 'DEBUG1'),
    'PermitTTY no',
    'X11Forwarding no',
    'AllowAgentForwarding no',
    'AllowStreamLocalForwarding no',
    'PermitTunnel no',
    'GatewayPorts no',
    'PermitListen none',
    'AllowTcpForwarding local',
    `PermitOpen ${spec.nodes.map((n) => `${n.address}:${n.sshPort}`).join(' ')}`,
    // no Subsystem: no sftp; any command or shell runs nologin, which refuses
    'ForceCommand /usr/sbin/nologin',
    '',
  ].join('\n');
}

export async function writeBastionFiles(spec: ClusterSpec): Promise<void> {
  const login = spec.login;
  if (!login) throw new Error('--bastion needs --login-user (a bastion admits no root logins)');
  const paths = bastionPaths(spec.dir);
  await mkdir(paths.workEtc, { recursive: true });
  await writeAccount(login, paths.upperEtc, '/nonexistent', '/usr/sbin/nologin');
  await writeFile(paths.sshdConfig, bastionSshdConfig(spec));
  await execFileAsync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'root@bastion', '-f', paths.hostKey]);
  await copyFile(`${join(spec.dir, 'ssh', 'id_ed25519')}.pub`, paths.authorizedKeys);
  await chmod(paths.authorizedKeys, 0o644);
}
