// The node's OpenSSH server: a config that admits only the cluster's client key and routes every
// command through forced-command.ts.
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { keepChildRunning, type KeptChild } from './child.ts';
import { compileCacheDir, type ClusterSpec, type NodePaths, type SimNodeSpec } from './spec.ts';

/**
 * What every sshd of the simulator has (the nodes' and the bastion's): key logins only, no PAM, no pid file, room
 * for the parallel sessions the Action opens. `permitRootLogin` and `logLevel` are each caller's.
 */
export function sshdBaseline(permitRootLogin: 'no' | 'prohibit-password', logLevel: 'INFO' | 'DEBUG1'): string[] {
  return [
    'PubkeyAuthentication yes',
    `PermitRootLogin ${permitRootLogin}`,
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'HostbasedAuthentication no',
    'StrictModes no',
    'UsePAM no',
    'PidFile none',
    'MaxSessions 50',
    'MaxStartups 100',
    `LogLevel ${logLevel}`,
    'PrintMotd no',
  ];
}

export function sshdConfigText(cluster: ClusterSpec, node: SimNodeSpec, paths: NodePaths): string {
  const forced = join(cluster.repoRoot, 'sim/node/forced-command.ts');
  const words = [cluster.node24, forced, paths.nodeDir, paths.hostKey, cluster.dir];
  const spaced = words.find((w) => /\s/.test(w));
  if (spaced) throw new Error(`sshd_config cannot hold a path with spaces: ${spaced}`);
  return [
    `ListenAddress ${node.address}:${node.sshPort}`,
    `HostKey ${paths.hostKey}`,
    // signed by the cluster's host CA (DIR/ssh/known_hosts_ca); clients that verify plain keys are shown the key
    ...(existsSync(`${paths.hostKey}-cert.pub`) ? [`HostCertificate ${paths.hostKey}-cert.pub`] : []),
    // with a login user (sim/cluster/login.ts) root may not log in and the key is in the user's home
    `AuthorizedKeysFile ${cluster.login ? '.ssh/authorized_keys' : join(cluster.dir, 'ssh', 'authorized_keys')}`,
    ...sshdBaseline(cluster.login ? 'no' : 'prohibit-password', 'INFO'),
    'Subsystem sftp /usr/lib/openssh/sftp-server',
    // the login user finds the stand-ins of the tools a real node has in /usr/bin (sim/cluster/login.ts)
    ...(cluster.login ? [`SetEnv PATH=${paths.nodeDir}/user-bin:/usr/local/bin:/usr/bin:/bin:/usr/games`] : []),
    `ForceCommand /usr/bin/env NODE_COMPILE_CACHE=${compileCacheDir(cluster)} ${cluster.node24} ${forced} --node-dir ${paths.nodeDir}`,
    '',
  ].join('\n');
}

export function startSshd(cluster: ClusterSpec, node: SimNodeSpec, paths: NodePaths, log: (line: string) => void): KeptChild {
  writeFileSync(paths.sshdConfig, sshdConfigText(cluster, node, paths));
  // sshd ignores a private host key others can read
  chmodSync(paths.hostKey, 0o600);
  return keepChildRunning({
    name: 'sshd',
    file: '/usr/sbin/sshd',
    args: ['-D', '-e', '-f', paths.sshdConfig],
    logFile: paths.sshdLog,
    log,
  });
}
