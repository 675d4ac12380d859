// The SSH transport (ssh2): strict host-key verification by default, one connection per node reused for
// every command, optional jump host, per-command timeout, keepalives. Messages name the node and address
// and never contain the private key.
import ssh2, { type Client as SshClient, type ClientChannel, type ConnectConfig } from 'ssh2';
import type { Duplex } from 'node:stream';
import { quoteCommand } from './quote.ts';
import {
  CommandTimeoutError,
  DEFAULT_COMMAND_TIMEOUT_MS,
  explainSudoRefusal,
  withSudo,
  type CommandResult,
  type NodeShell,
  type RunOptions,
} from './node-shell.ts';
import {
  hostKeyAlgorithmsFor,
  parseKnownHosts,
  verifyAgainstFingerprint,
  verifyAgainstKnownHosts,
  type HostKeyVerdict,
  type KnownHostsEntry,
} from './known-hosts.ts';

// ssh2 is CommonJS: Node's ESM loader only sees its default export.
const { Client, utils } = ssh2;
type Client = SshClient;

export interface SshTarget {
  node: string;
  host: string;
  port: number;
  user: string;
  /** pinned host key ("SHA256:…"), checked instead of known_hosts */
  hostKeyFingerprint?: string;
}

export interface SshOptions {
  privateKey: string;
  /** known_hosts text (the ssh-known-hosts input) */
  knownHosts: string;
  insecureSkipHostKeyCheck: boolean;
  jumpHost?: { user: string; host: string; port: number };
  keepaliveIntervalMs?: number;
  readyTimeoutMs?: number;
  warn?: (message: string) => void;
}

const HOST_KEY_FIX =
  "Fix: add the node's host key to the `ssh-known-hosts` input (for example from `ssh-keyscan`, checked out of band), " +
  'or pin it with `hostKeyFingerprint` on the node in the inventory. Only for throwaway clusters: `ssh-insecure-skip-host-key-check: true`.';

function hostKeyMessage(what: string, verdict: Exclude<HostKeyVerdict, { ok: true }>): string {
  const offered = `the server offered ${verdict.offered}`;
  switch (verdict.reason) {
    case 'unknown':
      return `host key of ${what} is unknown: it is not in ssh-known-hosts and no hostKeyFingerprint is set; ${offered}. ${HOST_KEY_FIX}`;
    case 'certificate-authority':
      return (
        `host key of ${what} is vouched for only by a host certificate authority (@cert-authority in ssh-known-hosts), ` +
        'and the built-in SSH client cannot verify SSH host certificates: ssh2 negotiates only plain host keys, ' +
        `not the *-cert-v01@openssh.com types; ${offered}. ` +
        "The Action's node connections (src/adapters/transport/open.ts) reach such a node with the runner's OpenSSH client, which checks the certificate; " +
        "this connection was opened with ssh2 directly. Fix: open it through the OpenSSH transport, or add the node's own host key next to the @cert-authority line in `ssh-known-hosts` " +
        '(for example `ssh-keyscan -t ed25519 HOST`, checked against the certificate `ssh-keygen -L -f /etc/ssh/ssh_host_ed25519_key-cert.pub` shows on the node), ' +
        'or pin it with `hostKeyFingerprint` on the node in the inventory.'
      );
    case 'revoked':
      return `host key of ${what} is marked @revoked in ssh-known-hosts; ${offered}. ${HOST_KEY_FIX}`;
    case 'mismatch':
      return (
        `host key of ${what} does not match: ${offered}, expected ${verdict.expected.join(' or ')}. ` +
        `The node may have been reinstalled, or someone may be intercepting the connection. ${HOST_KEY_FIX}`
      );
  }
}

interface Endpoint {
  /** "node cp-1 (10.0.0.10:22)" or "jump host bastion:22" */
  what: string;
  host: string;
  port: number;
  user: string;
  hostKeyFingerprint?: string;
}

/** Opens one verified, authenticated ssh2 connection (over `sock` when going through a jump host). */
function openClient(endpoint: Endpoint, options: SshOptions, entries: KnownHostsEntry[], sock?: Duplex): Promise<Client> {
  const client = new Client();
  let rejection: string | undefined;
  const config: ConnectConfig = {
    host: endpoint.host,
    port: endpoint.port,
    username: endpoint.user,
    privateKey: options.privateKey,
    keepaliveInterval: options.keepaliveIntervalMs ?? 15_000,
    keepaliveCountMax: 4,
    readyTimeout: options.readyTimeoutMs ?? 20_000,
    hostVerifier: (key: Buffer): boolean => {
      if (options.insecureSkipHostKeyCheck) return true;
      const verdict = endpoint.hostKeyFingerprint
        ? verifyAgainstFingerprint(endpoint.hostKeyFingerprint, key)
        : verifyAgainstKnownHosts(entries, endpoint.host, endpoint.port, key);
      if (!verdict.ok) rejection = hostKeyMessage(endpoint.what, verdict);
      return verdict.ok;
    },
    ...(sock ? { sock } : {}),
  };
  // Ask for the key types known_hosts holds for this host, so a server with several keys shows a known one.
  const algorithms =
    endpoint.hostKeyFingerprint || options.insecureSkipHostKeyCheck ? [] : hostKeyAlgorithmsFor(entries, endpoint.host, endpoint.port);
  if (algorithms.length > 0) config.algorithms = { serverHostKey: algorithms as never };
  return new Promise((resolve, reject) => {
    client.once('ready', () => {
      client.removeAllListeners('error');
      client.on('error', () => {}); // later errors surface through the failing command
      resolve(client);
    });
    client.once('error', (error: Error & { level?: string }) => {
      client.end();
      if (rejection) return reject(new Error(rejection));
      const hint =
        error.level === 'client-authentication'
          ? ' (authentication failed: check `ssh-user` and that `ssh-private-key` is authorised on the node)'
          : '';
      reject(new Error(`cannot connect to ${endpoint.what}: ${error.message}${hint}`));
    });
    try {
      client.connect(config);
    } catch (error) {
      // ssh2 throws synchronously when the key cannot be parsed; its message holds no key material
      reject(new Error(`cannot connect to ${endpoint.what}: ssh-private-key: ${(error as Error).message}`));
    }
  });
}

function forwardThrough(jump: Client, host: string, port: number, what: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    jump.forwardOut('127.0.0.1', 0, host, port, (error, channel) => {
      if (error) reject(new Error(`jump host cannot reach ${what}: ${error.message}`));
      else resolve(channel);
    });
  });
}

export class SshShell implements NodeShell {
  readonly node: string;
  readonly #client: Client;
  readonly #jump: Client | undefined;
  readonly #user: string;

  constructor(node: string, user: string, client: Client, jump?: Client) {
    this.node = node;
    this.#user = user;
    this.#client = client;
    this.#jump = jump;
  }

  run(argv: readonly string[], opts: RunOptions = {}): Promise<CommandResult> {
    const commandLine = quoteCommand(withSudo(argv, this.#user, opts.sudo));
    const timeoutMs = opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      this.#client.exec(commandLine, (error, stream) => {
        if (error) return reject(new Error(`cannot run a command on ${this.node}: ${error.message}`));
        const stdout: Buffer[] = [];
        const stderr: Buffer[] = [];
        let code: number | undefined;
        const timer = setTimeout(() => {
          stream.signal('KILL'); // OpenSSH ≥ 7.9 delivers it; closing the channel covers older servers
          stream.close();
          reject(new CommandTimeoutError(this.node, commandLine, timeoutMs));
        }, timeoutMs);
        stream.on('data', (chunk: Buffer) => stdout.push(chunk));
        stream.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
        stream.on('exit', (exitCode: number | null, signal?: string) => {
          code = exitCode ?? (signal ? 128 : 255);
        });
        stream.on('close', () => {
          clearTimeout(timer);
          if (code === undefined) {
            reject(new Error(`connection to ${this.node} closed before the command finished: ${commandLine}`));
            return;
          }
          const result = { code, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') };
          resolve(explainSudoRefusal(result, this.node, this.#user, opts.sudo));
        });
        stream.end(opts.stdin ?? undefined);
      });
    });
  }

  /** SFTP download over the existing connection; the file is created 0600 on the runner. */
  fetchFile(remotePath: string, localPath: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#client.sftp((error, sftp) => {
        if (error) return reject(new Error(`cannot open SFTP to ${this.node}: ${error.message}`));
        sftp.fastGet(remotePath, localPath, { mode: 0o600 }, (copyError) => {
          sftp.end();
          if (copyError) reject(new Error(`cannot copy ${remotePath} from ${this.node} over SFTP: ${copyError.message}`));
          else resolve();
        });
      });
    });
  }

  /** An SFTP read stream over the existing connection; opening the file first, so a refusal comes before any byte. */
  openFile(remotePath: string): Promise<AsyncIterable<Uint8Array>> {
    return new Promise((resolve, reject) => {
      this.#client.sftp((error, sftp) => {
        if (error) return reject(new Error(`cannot open SFTP to ${this.node}: ${error.message}`));
        sftp.open(remotePath, 'r', (openError, handle) => {
          if (openError) {
            sftp.end();
            return reject(new Error(`cannot open ${remotePath} on ${this.node} over SFTP: ${openError.message}`));
          }
          const stream = sftp.createReadStream(remotePath, { handle, autoClose: true });
          // the handle's close request must be answered before the SFTP channel (or the connection) ends, or ssh2
          // fails it with "No response from server" after the last byte
          const closed = new Promise<void>((done) => {
            stream.once('close', () => done());
            stream.once('error', () => done());
          });
          stream.on('error', () => {}); // an error while reading reaches the reader through the iterator
          resolve(
            (async function* () {
              try {
                for await (const chunk of stream) yield chunk as Uint8Array;
              } finally {
                stream.destroy();
                await closed;
                sftp.end();
              }
            })(),
          );
        });
      });
    });
  }

  async close(): Promise<void> {
    this.#client.end();
    this.#jump?.end();
  }
}

/** Why a private key cannot be used (unparsable, or protected by a passphrase), or undefined when it can. */
export function privateKeyProblem(privateKey: string): string | undefined {
  const parsed = utils.parseKey(privateKey);
  if (parsed instanceof Error) {
    return /encrypted|passphrase/i.test(parsed.message)
      ? 'is protected by a passphrase, which the action cannot enter'
      : `cannot be read as an SSH private key (${parsed.message})`;
  }
  return undefined;
}

/** Connects to one node (through the jump host when one is set). Throws a message naming the node and address. */
export async function connectSsh(
  target: SshTarget,
  options: SshOptions,
  knownHosts = parseKnownHosts(options.knownHosts),
): Promise<SshShell> {
  if (options.insecureSkipHostKeyCheck) {
    options.warn?.(
      `ssh-insecure-skip-host-key-check is true: the host key of ${target.node} (${target.host}:${target.port}) is not checked`,
    );
  }
  const what = `node ${target.node} (${target.user}@${target.host}:${target.port})`;
  const endpoint: Endpoint = {
    what,
    host: target.host,
    port: target.port,
    user: target.user,
    hostKeyFingerprint: target.hostKeyFingerprint,
  };
  if (!options.jumpHost) return new SshShell(target.node, target.user, await openClient(endpoint, options, knownHosts));
  const jumpHost = options.jumpHost;
  const jump = await openClient(
    { what: `jump host ${jumpHost.user}@${jumpHost.host}:${jumpHost.port} (on the way to ${target.node})`, ...jumpHost },
    options,
    knownHosts,
  );
  try {
    const channel = await forwardThrough(jump, target.host, target.port, what);
    return new SshShell(target.node, target.user, await openClient(endpoint, options, knownHosts, channel), jump);
  } catch (error) {
    jump.end();
    throw error;
  }
}
