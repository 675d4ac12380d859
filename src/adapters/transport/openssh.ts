// The OpenSSH transport: the runner's own `ssh` client, for nodes (or a jump host) that a `@cert-authority` line in
// ssh-known-hosts vouches for. ssh2 cannot verify host certificates (test/adapters/transport/host-certificate.test.ts);
// OpenSSH checks the certificate's CA signature, its principals (the address as written in the inventory), its
// validity period and that it is a host certificate. Everything else matches the ssh2 transport: strict host keys
// against the ssh-known-hosts input only, one connection per node reused for every command (ControlMaster), the
// jump host as ProxyJump (verified the same way), per-command timeout, keepalives, sudo through withSudo, commands
// quoted in quote.ts. No user or system ssh configuration is read: ssh gets `-F` with a config written here.
// The private key never touches the disk: it goes over stdin into a private ssh-agent started for this shell.
// Everything lives in one 0700 temporary directory that close() removes, with the agent and the master connection.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lookupName } from './known-hosts.ts';
import {
  CommandTimeoutError,
  DEFAULT_COMMAND_TIMEOUT_MS,
  explainSudoRefusal,
  withSudo,
  type CommandResult,
  type NodeShell,
  type RunOptions,
} from './node-shell.ts';
import { quoteCommand } from './quote.ts';
import type { SshTarget } from './ssh.ts';

export interface OpenSshOptions {
  privateKey: string;
  /** known_hosts text (the ssh-known-hosts input) */
  knownHosts: string;
  jumpHost?: { user: string; host: string; port: number };
  /** ServerAliveInterval in seconds (ServerAliveCountMax is 4) */
  keepaliveIntervalS?: number;
  /** ConnectTimeout in seconds */
  connectTimeoutS?: number;
  /** ControlPersist: how long an idle master connection stays before it ends itself */
  controlPersistS?: number;
}

/** What a runner without the OpenSSH client must do. */
function missingClientFix(tool: string, node: string): string {
  return (
    `node ${node} is vouched for by a @cert-authority line in ssh-known-hosts, and host certificates are checked with ` +
    `the runner's OpenSSH client, but \`${tool}\` is not installed on the runner (not found on PATH). ` +
    'Fix: install the OpenSSH client on the runner (Debian/Ubuntu: `sudo apt-get install -y openssh-client`; ' +
    "GitHub-hosted runners have it), or list the node's own host key in `ssh-known-hosts` (or pin `hostKeyFingerprint`) " +
    'so the built-in SSH client is used.'
  );
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a helper program (ssh-agent's tools, ssh -O) to its end; ENOENT becomes the missing-client error. */
function runTool(file: string, args: string[], node: string, env: NodeJS.ProcessEnv, stdin?: string): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (c: Buffer) => out.push(c));
    child.stderr?.on('data', (c: Buffer) => err.push(c));
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'ENOENT' ? new Error(missingClientFix(file, node)) : new Error(`cannot run ${file} for ${node}: ${error.message}`),
      ),
    );
    child.once('close', (code, signal) =>
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8').replaceAll('\r\n', '\n'),
      }),
    );
    if (stdin !== undefined) child.stdin?.end(stdin);
  });
}

/** A value for the generated ssh config, double-quoted (paths in our temporary directory). */
function configValue(value: string): string {
  if (/["%\n\r]/.test(value)) throw new Error(`cannot use ${JSON.stringify(value)} in an ssh configuration`);
  return `"${value}"`;
}

/** `user@host:port`, with an IPv6 address in brackets, as ProxyJump reads it. */
function jumpSpec(jump: { user: string; host: string; port: number }): string {
  return `${jump.user}@${jump.host.includes(':') ? `[${jump.host}]` : jump.host}:${jump.port}`;
}

/** ssh's own last words when it (not the remote command) failed: exit 255 with one of these on stderr. */
const SSH_FAILURE =
  /^(ssh: |Connection (to \S+ )?(closed|reset|timed out)|Connection closed by|client_loop: |mux_client|Control socket|ControlSocket|Host key verification failed|\S+: Permission denied \(|kex_exchange_identification|Timeout, server|ssh_dispatch_run_fatal|ssh_exchange_identification|Bad owner|channel \d+: open failed|stdio forwarding failed)/m;

function lastLines(text: string, count = 4): string {
  return text.trim().split('\n').slice(-count).join(' / ');
}

const CERTIFICATE_FIX_TAIL =
  "Alternatively list the node's own host key in `ssh-known-hosts` or pin `hostKeyFingerprint` on the node in the inventory.";

/** The error for a connection OpenSSH refused, naming the endpoint, what OpenSSH said and the fix. */
function connectError(what: string, host: string, port: number, stderr: string): string {
  const said = `OpenSSH: "${lastLines(stderr)}"`;
  const name = lookupName(host, port);
  if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|REVOKED/i.test(stderr)) {
    if (/Certificate invalid: name is not a listed principal/.test(stderr)) {
      return (
        `host key of ${what} was refused: its host certificate does not list ${host} (the address in the inventory) ` +
        `among its principals (${said}). Fix: re-sign the node's host key with ${host} among the principals ` +
        `(\`ssh-keygen -s CA_KEY -h -I NAME -n ${host},OTHER_NAMES /etc/ssh/ssh_host_ed25519_key.pub\`) and reload sshd, ` +
        `or give the node in the inventory an address its certificate lists. ${CERTIFICATE_FIX_TAIL}`
      );
    }
    if (/Certificate invalid: (expired|not yet valid)/.test(stderr)) {
      return (
        `host key of ${what} was refused: its host certificate is not valid now (${said}). ` +
        "Fix: renew the node's host certificate (`ssh-keygen -s CA_KEY -h -I NAME -n NAMES -V +52w /etc/ssh/ssh_host_ed25519_key.pub`) " +
        `and reload sshd; check the clocks of the runner and the node. ${CERTIFICATE_FIX_TAIL}`
      );
    }
    if (/Certificate invalid/.test(stderr)) {
      return `host key of ${what} was refused: its host certificate is invalid (${said}). Fix: issue the node a host certificate (\`ssh-keygen -s CA_KEY -h …\`) and reload sshd. ${CERTIFICATE_FIX_TAIL}`;
    }
    if (/REVOKED|revoked/.test(stderr)) {
      return `host key of ${what} is marked @revoked in ssh-known-hosts (${said}). Fix: issue the node a new host key and certificate. ${CERTIFICATE_FIX_TAIL}`;
    }
    if (/REMOTE HOST IDENTIFICATION HAS CHANGED/.test(stderr)) {
      return (
        `host key of ${what} does not match the key ssh-known-hosts lists for ${name} (${said}). ` +
        `The node may have been reinstalled, or someone may be intercepting the connection. ${CERTIFICATE_FIX_TAIL}`
      );
    }
    return (
      `host key of ${what} was refused: the node showed neither a host certificate signed by a CA that a @cert-authority line ` +
      `in ssh-known-hosts names for ${name}, nor a host key listed there (${said}). ` +
      "Fix: add the @cert-authority line of the CA that signed the node's certificate (`ssh-keygen -L -f /etc/ssh/ssh_host_ed25519_key-cert.pub` " +
      'on the node shows its Signing CA), or re-sign the host key with the CA listed, and make sure sshd serves the certificate ' +
      `(\`HostCertificate\` in sshd_config). ${CERTIFICATE_FIX_TAIL}`
    );
  }
  if (/Permission denied \(/.test(stderr)) {
    return `cannot connect to ${what}: ${said} (authentication failed: check \`ssh-user\` and that \`ssh-private-key\` is authorised on the node)`;
  }
  return `cannot connect to ${what}: ${said}`;
}

/** Shells still open in this process: their agents and masters are ended, their directories removed, at exit. */
const open = new Set<OpenSshShell>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const shell of open) shell.closeSync();
  });
}

export class OpenSshShell implements NodeShell {
  readonly node: string;
  readonly #user: string;
  readonly #dir: string;
  readonly #agent: Agent;
  readonly #env: NodeJS.ProcessEnv;
  /** ssh's arguments up to and including the host: config, connection sharing, port, user */
  readonly #target: string[];
  #closed = false;

  constructor(node: string, user: string, dir: string, agent: Agent, env: NodeJS.ProcessEnv, target: string[]) {
    this.node = node;
    this.#user = user;
    this.#dir = dir;
    this.#agent = agent;
    this.#env = env;
    this.#target = target;
    open.add(this);
    installExitHook();
  }

  /** the private directory (tests check what is in it and that close() removes it) */
  get directory(): string {
    return this.#dir;
  }

  /** the agent's process id (tests check it ends) */
  get agentPid(): number {
    return this.#agent.pid;
  }

  run(argv: readonly string[], opts: RunOptions = {}): Promise<CommandResult> {
    if (this.#closed) return Promise.reject(new Error(`cannot run a command on ${this.node}: its connection is closed`));
    const commandLine = quoteCommand(withSudo(argv, this.#user, opts.sudo));
    const timeoutMs = opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      const child = spawn('ssh', [...this.#target, commandLine], {
        env: this.#env,
        stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      });
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGTERM'); // ends this session; the shared connection stays
        reject(new CommandTimeoutError(this.node, commandLine, timeoutMs));
      }, timeoutMs);
      child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
      child.once('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(
          error.code === 'ENOENT'
            ? new Error(missingClientFix('ssh', this.node))
            : new Error(`cannot run ssh for ${this.node}: ${error.message}`),
        );
      });
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        if (timedOut) return;
        const result = {
          code: code ?? 128,
          stdout: Buffer.concat(stdout).toString('utf8'),
          stderr: Buffer.concat(stderr).toString('utf8'),
        };
        if (code === null || (code === 255 && SSH_FAILURE.test(result.stderr))) {
          reject(
            new Error(
              `connection to ${this.node} failed before the command finished (${signal ?? `exit ${code}`}: ${lastLines(result.stderr)}): ${commandLine}`,
            ),
          );
          return;
        }
        resolve(explainSudoRefusal(result, this.node, this.#user, opts.sudo));
      });
      child.stdin?.on('error', () => {}); // ssh may exit before reading all of stdin; its exit says why
      if (opts.stdin !== undefined) child.stdin?.end(opts.stdin);
    });
  }

  /** Copies a file as the login user: `cat` over the shared connection into a 0600 file on the runner. */
  fetchFile(remotePath: string, localPath: string): Promise<void> {
    if (this.#closed) return Promise.reject(new Error(`cannot copy ${remotePath} from ${this.node}: its connection is closed`));
    const commandLine = quoteCommand(['cat', '--', remotePath]);
    return new Promise((resolve, reject) => {
      const file = createWriteStream(localPath, { mode: 0o600 });
      const child = spawn('ssh', [...this.#target, commandLine], { env: this.#env, stdio: ['ignore', 'pipe', 'pipe'] });
      const stderr: Buffer[] = [];
      child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
      child.stdout?.pipe(file);
      child.once('error', (error) => reject(new Error(`cannot copy ${remotePath} from ${this.node}: ${error.message}`)));
      child.once('close', (code) => {
        file.close(() => {
          if (code === 0) return resolve();
          reject(
            new Error(`cannot copy ${remotePath} from ${this.node} (exit ${code}): ${lastLines(Buffer.concat(stderr).toString('utf8'))}`),
          );
        });
      });
    });
  }

  /** ssh's arguments to send the master connection a control command (`-O exit`) */
  #control(command: string): string[] {
    return [...this.#target.slice(0, -2), '-O', command, ...this.#target.slice(-2)];
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    open.delete(this);
    // end the master connection, then the agent, then remove the directory
    await runTool('ssh', this.#control('exit'), this.node, this.#env).catch(() => undefined);
    const keeper = this.#agent.keeper;
    const keeperEnded =
      keeper.exitCode !== null || keeper.signalCode !== null ? Promise.resolve() : new Promise((r) => keeper.once('exit', r));
    stopAgent(this.#agent);
    await keeperEnded;
    rmSync(this.#dir, { recursive: true, force: true });
  }

  /** close() for process exit, where nothing asynchronous runs any more. */
  closeSync(): void {
    if (this.#closed) return;
    this.#closed = true;
    open.delete(this);
    spawnSync('ssh', this.#control('exit'), { env: this.#env, stdio: 'ignore', timeout: 5_000 });
    stopAgent(this.#agent);
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/**
 * A private ssh-agent on a socket in our directory. It runs a keeper command (`cat` reading a pipe from this
 * process) and ends itself when the keeper ends (ssh-agent checks every 10 s), so even when this process is killed
 * the key does not outlive it by more than seconds. Normally it is ended by its PID.
 */
interface Agent {
  pid: number;
  keeper: ChildProcess;
}

function agentAlive(agent: Agent): boolean {
  try {
    process.kill(agent.pid, 0);
    return true;
  } catch {
    return false;
  }
}

function stopAgent(agent: Agent): void {
  if (agentAlive(agent)) process.kill(agent.pid, 'SIGTERM');
  agent.keeper.stdin?.destroy();
}

function startAgent(socket: string, node: string): Promise<Agent> {
  return new Promise((resolve, reject) => {
    // the agent listens before it starts the command; the command prints the agent's PID, then waits on stdin
    const keeper = spawn('ssh-agent', ['-a', socket, '--', 'sh', '-c', 'echo "$SSH_AGENT_PID"; exec cat >/dev/null'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let said = '';
    keeper.stdout?.on('data', (chunk: Buffer) => {
      said += chunk.toString('utf8');
      const pid = /^(\d+)\n/.exec(said)?.[1];
      if (pid) resolve({ pid: Number(pid), keeper });
    });
    keeper.stderr?.on('data', (chunk: Buffer) => (said += chunk.toString('utf8')));
    keeper.stdin?.on('error', () => {});
    keeper.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'ENOENT'
          ? new Error(missingClientFix('ssh-agent', node))
          : new Error(`cannot start ssh-agent for ${node}: ${error.message}`),
      ),
    );
    keeper.once('exit', (code) => reject(new Error(`ssh-agent for ${node} exited at start (exit ${code}): ${said.trim()}`)));
  });
}

/**
 * Connects to one node with the OpenSSH client (through the jump host when one is set): starts the agent, loads
 * the key, writes the config and known_hosts, and opens the master connection, which checks the host certificate.
 * Throws a message naming the node, what OpenSSH said and the fix; nothing is left behind on failure.
 */
export async function connectOpenSsh(target: SshTarget, options: OpenSshOptions): Promise<OpenSshShell> {
  const what = `node ${target.node} (${target.user}@${target.host}:${target.port})`;
  const probe = spawnSync('ssh', ['-V'], { stdio: 'ignore' });
  if ((probe.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') throw new Error(missingClientFix('ssh', target.node));
  const dir = mkdtempSync(join(tmpdir(), 'kua-ssh-')); // mode 0700
  let agent: Agent | undefined;
  try {
    const agentSocket = join(dir, 'agent');
    agent = await startAgent(agentSocket, target.node);
    const env: NodeJS.ProcessEnv = { ...process.env, SSH_AUTH_SOCK: agentSocket, SSH_ASKPASS_REQUIRE: 'never' };
    delete env.SSH_AGENT_PID;
    // OpenSSH reads a key only with its final newline, which a workflow input loses
    const key = `${options.privateKey.replaceAll('\r\n', '\n').trimEnd()}\n`;
    const added = await runTool('ssh-add', ['-q', '-'], target.node, env, key);
    if (added.code !== 0) {
      // ssh-add names the problem ("invalid format"); it never prints the key
      throw new Error(`cannot connect to ${what}: ssh-private-key cannot be loaded into ssh-agent: ${lastLines(added.stderr)}`);
    }
    const listed = await runTool('ssh-add', ['-L'], target.node, env);
    if (listed.code !== 0) throw new Error(`cannot connect to ${what}: ssh-agent does not list the key: ${lastLines(listed.stderr)}`);
    writeFileSync(join(dir, 'id.pub'), listed.stdout, { mode: 0o600 });
    writeFileSync(join(dir, 'known_hosts'), `${options.knownHosts.trim()}\n`, { mode: 0o600 });
    const config = [
      'Host *',
      '  BatchMode yes',
      '  StrictHostKeyChecking yes',
      `  UserKnownHostsFile ${configValue(join(dir, 'known_hosts'))}`,
      '  GlobalKnownHostsFile /dev/null',
      '  CheckHostIP no',
      '  UpdateHostKeys no',
      '  VerifyHostKeyDNS no',
      `  IdentityAgent ${configValue(agentSocket)}`,
      `  IdentityFile ${configValue(join(dir, 'id.pub'))}`,
      '  IdentitiesOnly yes',
      '  PubkeyAuthentication yes',
      '  PasswordAuthentication no',
      '  KbdInteractiveAuthentication no',
      '  ForwardAgent no',
      '  ForwardX11 no',
      '  RequestTTY no',
      '  EscapeChar none',
      `  ServerAliveInterval ${options.keepaliveIntervalS ?? 15}`,
      '  ServerAliveCountMax 4',
      `  ConnectTimeout ${options.connectTimeoutS ?? 20}`,
      '  LogLevel ERROR',
    ];
    writeFileSync(join(dir, 'config'), `${config.join('\n')}\n`, { mode: 0o600 });
    // The jump host and connection sharing only for the node: ssh hands the jump host's ssh (ProxyJump runs
    // `ssh -F config -W host:port jump`) the config file, not the options on its own command line.
    const base = [...(options.jumpHost ? ['-J', jumpSpec(options.jumpHost)] : []), '-F', join(dir, 'config')];
    const sharing = [
      '-o',
      'ControlMaster=auto',
      '-o',
      `ControlPath=${configValue(join(dir, 'control'))}`,
      '-o',
      `ControlPersist=${options.controlPersistS ?? 300}`,
    ];
    const destination = ['-p', String(target.port), '-l', target.user, '--', target.host];
    const targetArgs = [...base, ...sharing, ...destination];
    // the first command opens the master connection (and checks the host certificate); later ones share it
    const first = await runTool('ssh', [...targetArgs, 'true'], target.node, env);
    if (first.code !== 0) {
      let stderr = first.stderr;
      const jump = options.jumpHost;
      if (jump) {
        // ssh sends a ProxyJump's errors to /dev/null when it opens a persistent master: ask again without one
        stderr = (await runTool('ssh', [...base, ...destination, 'true'], target.node, env)).stderr || stderr;
      }
      // the jump host's ssh failed when the node's ssh then saw its proxy close before the SSH banner
      const refused = Math.max(stderr.indexOf('Host key verification failed'), stderr.indexOf('Permission denied ('));
      const proxyClosed = stderr.search(/kex_exchange_identification|Connection closed by UNKNOWN|banner exchange/);
      const jumpFailed = jump !== undefined && refused >= 0 && proxyClosed > refused;
      throw new Error(
        jumpFailed && jump
          ? connectError(`jump host ${jump.user}@${jump.host}:${jump.port} (on the way to ${target.node})`, jump.host, jump.port, stderr)
          : connectError(what, target.host, target.port, stderr),
      );
    }
    return new OpenSshShell(target.node, target.user, dir, agent, env, targetArgs);
  } catch (error) {
    if (agent) stopAgent(agent);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
