// A throwaway OpenSSH server on a random loopback address, for transport tests that do not need the
// whole simulator. It runs `sshd -D` with its own config, host keys and authorized key; stop() ends it.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestSshd {
  host: string;
  port: number;
  dir: string;
  /** client private key (OpenSSH format) authorised for root */
  clientKey: string;
  /** "type base64" of each host key */
  hostKeys: { ed25519: string; ecdsa: string; rsa: string };
  /** with `hostCertificate`: the host CA's public key ("type base64") that signed the ed25519 host key */
  hostCa?: string;
  /** sshd's log (LogLevel INFO): one "Accepted publickey" line per connection */
  log(): string;
  stop(): Promise<void>;
}

function keygen(file: string, type: string, bits?: string): string {
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(bits ? ['-b', bits] : []), '-N', '', '-f', file]);
  return readFileSync(`${file}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface SshdOptions {
  /**
   * Sign the ed25519 host key with a fresh host CA (`ssh-keygen -s ca -h -n PRINCIPALS`) and serve the certificate
   * (`HostCertificate`); principals default to the listen address, validity (`ssh-keygen -V`) to -5m:+1h.
   */
  hostCertificate?: { principals?: string[]; validity?: string };
}

export async function startSshd(options: SshdOptions = {}): Promise<TestSshd> {
  const dir = mkdtempSync(join(tmpdir(), 'kua-sshd-'));
  mkdirSync('/run/sshd', { recursive: true }); // privilege separation directory sshd insists on
  const host = `127.${100 + Math.floor(Math.random() * 100)}.${Math.floor(Math.random() * 256)}.${10 + Math.floor(Math.random() * 200)}`;
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const hostKeys = {
    ed25519: keygen(join(dir, 'host_ed25519'), 'ed25519'),
    ecdsa: keygen(join(dir, 'host_ecdsa'), 'ecdsa', '256'),
    rsa: keygen(join(dir, 'host_rsa'), 'rsa', '2048'),
  };
  let hostCa: string | undefined;
  if (options.hostCertificate) {
    hostCa = keygen(join(dir, 'host_ca'), 'ed25519');
    const principals = options.hostCertificate.principals ?? [host];
    execFileSync('ssh-keygen', [
      '-q',
      '-s',
      join(dir, 'host_ca'),
      '-I',
      'test-host',
      '-h',
      '-n',
      principals.join(','),
      '-V',
      options.hostCertificate.validity ?? '-5m:+1h',
      join(dir, 'host_ed25519.pub'),
    ]);
  }
  const clientPub = keygen(join(dir, 'client'), 'ed25519');
  writeFileSync(join(dir, 'authorized_keys'), `${clientPub}\n`, { mode: 0o600 });
  const config = [
    `ListenAddress ${host}:${port}`,
    `HostKey ${join(dir, 'host_ed25519')}`,
    `HostKey ${join(dir, 'host_ecdsa')}`,
    `HostKey ${join(dir, 'host_rsa')}`,
    ...(hostCa ? [`HostCertificate ${join(dir, 'host_ed25519-cert.pub')}`] : []),
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'AllowTcpForwarding yes',
    'LogLevel INFO',
  ].join('\n');
  writeFileSync(join(dir, 'sshd_config'), `${config}\n`);
  const logFile = join(dir, 'sshd.log');
  const child: ChildProcess = spawn('/usr/sbin/sshd', ['-D', '-f', join(dir, 'sshd_config'), '-E', logFile], { stdio: 'ignore' });
  let exited = false;
  child.once('exit', () => (exited = true));
  for (let i = 0; i < 100 && !(await canConnect(host, port)); i++) {
    if (exited) throw new Error(`sshd exited at start: ${readFileSync(logFile, 'utf8')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    host,
    port,
    dir,
    clientKey: readFileSync(join(dir, 'client'), 'utf8'),
    hostKeys,
    ...(hostCa ? { hostCa } : {}),
    log: () => readFileSync(logFile, 'utf8'),
    stop: () =>
      new Promise((resolve) => {
        if (exited) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
