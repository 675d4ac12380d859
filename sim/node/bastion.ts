// The bastion (`sim up --bastion`): one more OpenSSH server, on 127.A.B.3:22, that lets the login user forward
// TCP to the nodes' sshd and nothing else (no shell, no command, no terminal). Its own /etc overlay holds the
// user's account (shell nologin). Started by `sim up` as
//   unshare --mount --propagation private <node24> sim/node/bastion.ts --dir DIR
// SIGTERM stops sshd and exits (the overlay vanishes with the namespace).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { keepChildRunning } from './child.ts';
import { assertDirOutsideOverlays, assertPrivateNamespace } from './namespace.ts';
import { bastionPaths } from './spec.ts';

function log(line: string): void {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`);
}

function main(): void {
  const at = process.argv.indexOf('--dir');
  const value = at >= 0 ? process.argv[at + 1] : undefined;
  if (!value) throw new Error('usage: bastion.ts --dir DIR');
  const dir = resolve(value);
  const paths = bastionPaths(dir);
  assertPrivateNamespace();
  assertDirOutsideOverlays(dir);
  execFileSync('mount', ['--make-rprivate', '/']);
  mkdirSync(paths.workEtc, { recursive: true });
  execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=/etc,upperdir=${paths.upperEtc},workdir=${paths.workEtc}`, '/etc']);
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const sshd = keepChildRunning({
    name: 'sshd',
    file: '/usr/sbin/sshd',
    args: ['-D', '-e', '-f', paths.sshdConfig],
    logFile: paths.sshdLog,
    log,
  });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping the bastion`);
    void sshd.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  writeFileSync(paths.pidFile, `${process.pid}\n`);
  log(`bastion mounted; pid ${process.pid}`);
}

try {
  main();
} catch (err) {
  log(`bastion failed: ${(err as Error).message}`);
  process.exit(1);
}
