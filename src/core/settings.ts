// Every action input parsed once into one typed object. Pure: inputs come through a reader (core.getInput in
// the action, a Map in tests); the only outside access is reading the inventory file, and that goes through
// `env.readFile` when the caller passes one.
import { readFileSync, realpathSync } from 'node:fs';
import { z } from 'zod';
import { InputError, type InputProblem, quoteValue } from './errors.ts';
import { fail, inputField as input, isFail, type Fail } from './input-field.ts';
import { addressProblem, labelKeyProblem, portProblem, userNameProblem } from './names.ts';
import { parseTargetSpec, type TargetSpec } from './versions.ts';
import { parseUpgradeOptions, UPGRADE_INPUTS, type UpgradeOptions } from './upgrade-options.ts';
import { resolveInWorkspace, type RealPath } from './workspace-path.ts';
import {
  externalEtcdFrom,
  parseEtcdEndpoints,
  parseNodePath,
  parseRecipientsInput,
  parseRollbackSource,
  type ExternalEtcd,
  type RollbackSource,
} from './backup-settings.ts';

export type { TargetSpec } from './versions.ts';

export type InputReader = (name: string) => string;

export const COMMANDS = ['plan', 'upgrade', 'control-plane', 'workers', 'node', 'verify', 'backup', 'rollback'] as const;
export type Command = (typeof COMMANDS)[number];

/** Commands that act on a Kubernetes version and therefore need target-version. */
const COMMANDS_WITH_TARGET: readonly Command[] = ['plan', 'upgrade', 'control-plane', 'workers', 'node'];

/**
 * Largest inventory file accepted: small enough to parse safely (a 5,000-node inventory, one line per node, is
 * about 300 KB; test/e2e/hostile-inputs.test.ts runs one through the bundle).
 */
export const MAX_INVENTORY_BYTES = 10 * 1024 * 1024;

/**
 * Largest inline inventory: the runner hands each input to the Action as one environment string
 * `INPUT_INVENTORY=<value>`, and Linux refuses to start a process with a single string longer than
 * MAX_ARG_STRLEN (32 pages = 131,072 bytes with its NUL), failing the step with E2BIG before this code runs.
 * About 2,100 nodes in the README's one-line format (61 bytes a node), about 970 with a hostKeyFingerprint each.
 */
export const MAX_INLINE_INVENTORY_BYTES = 131_072 - 'INPUT_INVENTORY='.length - 1;

/** Inline inventories above this get a warning that the limit is near. */
const INLINE_INVENTORY_WARN_BYTES = 100 * 1024;

const INVENTORY_FILE_FIX =
  'commit the inventory as a file in the repository and pass the path of a file in the workspace instead (inventory: .github/inventory.yaml, after actions/checkout)';

export type MaxUnavailable = { kind: 'count'; value: number } | { kind: 'percent'; value: number };

export interface SshSettings {
  privateKey?: string;
  knownHosts?: string;
  user: string;
  port: number;
  jumpHost?: { user: string; host: string; port: number };
  insecureSkipHostKeyCheck: boolean;
}

/** The backup, rollback and artifact inputs. */
export interface BackupSettings {
  /** input `backup` (default true): the backup stage runs before the first control plane's upgrade apply */
  enabled: boolean;
  /** backups this action made to keep on each node */
  keep: number;
  /** age public keys; without them nothing secret leaves the nodes */
  recipients: string[];
  upload: 'encrypted' | 'unencrypted' | 'none';
  retentionDays?: number;
  collectKubeadmBackups: boolean;
  externalEtcd?: ExternalEtcd;
  /** must equal the cluster's name for command: rollback */
  confirmRollback: string;
  /** where rollback takes the recorded state from */
  rollbackSource: RollbackSource;
}

export interface Settings {
  command: Command;
  /** parsed target-version; `raw: ''` (major/minor 0) only for commands that need no version */
  target: TargetSpec;
  /** input text or file contents (source = 'input' or the workspace-relative path) */
  inventory?: { text: string; source: string };
  kubeconfig?: string;
  /** allow-kubeconfig-exec: the kubeconfig's users may run exec credential plugins on the runner */
  allowKubeconfigExec: boolean;
  ssh: SshSettings;
  transport: 'ssh' | 'local';
  maxUnavailable: MaxUnavailable;
  batchByLabel?: string;
  force: boolean;
  githubToken?: string;
  prComment: 'auto' | 'always' | 'never';
  /** node probes at once */
  parallelism: number;
  /** non-fatal notes for the log (for instance: host-key checking is off) */
  warnings: string[];
  /** drain, lock, kubeadm and verify options of the commands that change the cluster */
  upgrade: UpgradeOptions;
  backup: BackupSettings;
}

export interface SettingsEnv {
  /** GITHUB_WORKSPACE; inventory paths must stay inside it */
  workspace?: string;
  /** reads a file (absolute path); defaults to fs.readFileSync as UTF-8 */
  readFile?: (absolutePath: string) => string;
  /** resolves symlinks (absolute path) before the workspace containment check; defaults to fs.realpathSync.native */
  realpath?: RealPath;
}

const defaultRealpath: RealPath = (p) => realpathSync.native(p);

function oneOf<T extends string>(values: readonly T[], fallback: T) {
  return (v: string): T | Fail => {
    if (v === '') return fallback;
    return (values as readonly string[]).includes(v)
      ? (v as T)
      : fail(`${quoteValue(v)} is not one of ${values.join(', ')}`, `use one of: ${values.join(', ')}`);
  };
}

/** Like core.getBooleanInput: true/True/TRUE/false/False/FALSE; empty = default. */
function bool(fallback: boolean) {
  return (v: string): boolean | Fail => {
    if (v === '') return fallback;
    if (['true', 'True', 'TRUE'].includes(v)) return true;
    if (['false', 'False', 'FALSE'].includes(v)) return false;
    return fail(`${quoteValue(v)} is not a boolean`, 'use true or false');
  };
}

function integer(fallback: number, min: number, max: number) {
  return (v: string): number | Fail => {
    if (v === '') return fallback;
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max)
      return fail(`${quoteValue(v)} is not a whole number from ${min} to ${max}`, `use a number such as ${fallback}`);
    return Number(v);
  };
}

const optionalText = (v: string): string | undefined => (v === '' ? undefined : v);

function parseMaxUnavailable(v: string): MaxUnavailable | Fail {
  if (v === '') return { kind: 'count', value: 1 };
  const pct = /^(\d{1,3})%$/.exec(v);
  if (pct) {
    const value = Number(pct[1]);
    return value >= 1 && value <= 100
      ? { kind: 'percent', value }
      : fail(`${quoteValue(v)} is not a percentage from 1% to 100%`, 'use a count such as 2 or a percentage such as 20%');
  }
  if (/^\d{1,6}$/.test(v) && Number(v) >= 1) return { kind: 'count', value: Number(v) };
  return fail(`${quoteValue(v)} is neither a node count (1 or more) nor a percentage`, 'use a count such as 2 or a percentage such as 20%');
}

function parseJumpHost(v: string): SshSettings['jumpHost'] | undefined | Fail {
  if (v === '') return undefined;
  const m = /^(?:([^@]*)@)?(\[[^\]]*\]|[^:@]*)(?::(\d{1,5}))?$/.exec(v);
  const fix = 'use user@host:port, for example bastion@203.0.113.5:22 (user and port are optional)';
  if (!m) return fail(`${quoteValue(v)} is not of the form user@host:port`, fix);
  const host = m[2]!.replace(/^\[(.*)\]$/, '$1');
  const hostProblem = addressProblem(host);
  if (hostProblem) return fail(`host ${quoteValue(host)} ${hostProblem}`, fix);
  const user = m[1] ?? '';
  if (m[1] !== undefined) {
    const userProblem = userNameProblem(user);
    if (userProblem) return fail(`user ${quoteValue(user)} ${userProblem}`, fix);
  }
  const port = m[3] === undefined ? 22 : Number(m[3]);
  const portP = portProblem(port);
  if (portP) return fail(`port ${portP}`, fix);
  return { user, host, port };
}

function parsePrivateKey(v: string): string | undefined | Fail {
  if (v === '') return undefined;
  // Never echo the value: it is a secret.
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(v))
    return fail(
      'does not look like a private key (no "-----BEGIN … PRIVATE KEY-----" line)',
      'pass the whole key file from a secret: ssh-private-key: ${{ secrets.SSH_PRIVATE_KEY }}',
    );
  return v;
}

function parseLabelKey(v: string): string | undefined | Fail {
  if (v === '') return undefined;
  const p = labelKeyProblem(v);
  return p ? fail(`${quoteValue(v)} is not a label key: it ${p}`, 'use a node label key such as topology.kubernetes.io/zone') : v;
}

function parseUser(v: string): string | Fail {
  if (v === '') return 'root';
  const p = userNameProblem(v);
  return p ? fail(`${quoteValue(v)} ${p}`, 'use a plain login name such as root or ubuntu') : v;
}

const inputSchema = z.object({
  command: input(oneOf(COMMANDS, 'plan')),
  'target-version': input((v): TargetSpec | undefined | Fail => {
    if (v === '') return undefined;
    const spec = parseTargetSpec(v);
    return 'problem' in spec ? fail(spec.problem, 'use v1.31.4, 1.31.4, or 1.31 for the newest published 1.31 patch') : spec;
  }),
  inventory: input(optionalText),
  kubeconfig: input(optionalText),
  'allow-kubeconfig-exec': input(bool(false)),
  'ssh-private-key': input(parsePrivateKey),
  'ssh-known-hosts': input(optionalText),
  'ssh-user': input(parseUser),
  'ssh-port': input(integer(22, 1, 65535)),
  'ssh-jump-host': input(parseJumpHost),
  'ssh-insecure-skip-host-key-check': input(bool(false)),
  transport: input(oneOf(['ssh', 'local'] as const, 'ssh')),
  'max-unavailable': input(parseMaxUnavailable),
  'batch-by-label': input(parseLabelKey),
  force: input(bool(false)),
  'github-token': input(optionalText),
  'pr-comment': input(oneOf(['auto', 'always', 'never'] as const, 'auto')),
  parallelism: input(integer(10, 1, 256)),
  backup: input(bool(true)),
  'backup-keep': input(integer(3, 1, 1000)),
  'backup-encryption-recipients': input(parseRecipientsInput),
  'backup-upload': input(oneOf(['encrypted', 'unencrypted', 'none'] as const, 'encrypted')),
  'artifact-retention-days': input((v): number | undefined | Fail => (v === '' ? undefined : integer(90, 1, 400)(v))),
  'collect-kubeadm-backups': input(bool(false)),
  'etcd-endpoints': input(parseEtcdEndpoints),
  'etcd-ca': input(parseNodePath),
  'etcd-cert': input(parseNodePath),
  'etcd-key': input(parseNodePath),
  'confirm-rollback': input((v) => v),
  // resolved against the workspace after the schema (it needs env)
  'rollback-source': input((v) => v),
});

const BASE_INPUTS = Object.keys(inputSchema.shape) as (keyof typeof inputSchema.shape)[];

/** Names of every input parseSettings reads (action.yml must declare them). */
export const SETTINGS_INPUTS: string[] = [...BASE_INPUTS, ...UPGRADE_INPUTS];

/** The upgrade options, or their problems (collected with the others so one error lists them all). */
function upgradeOptions(read: InputReader, command: string, problems: InputProblem[]): UpgradeOptions | undefined {
  try {
    return parseUpgradeOptions(read, command);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    problems.push(...error.problems);
    return undefined;
  }
}

/** Reads and validates every input; throws InputError listing every problem. */
export function parseSettings(read: InputReader, env: SettingsEnv = {}): Settings {
  const raw = Object.fromEntries(BASE_INPUTS.map((name) => [name, read(name) ?? '']));
  const parsed = inputSchema.safeParse(raw);
  const problems: InputProblem[] = [];
  const commandText = (read('command') ?? '').trim() || 'plan';
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const fix =
        issue.code === 'custom' && typeof issue.params?.fix === 'string' ? issue.params.fix : 'see the input description in action.yml';
      problems.push({ input: String(issue.path[0] ?? 'inputs'), problem: issue.message, fix });
    }
    upgradeOptions(read, commandText, problems);
    throw new InputError(problems);
  }
  const upgrade = upgradeOptions(read, commandText, problems);
  const v = parsed.data;
  if (v['target-version'] === undefined && COMMANDS_WITH_TARGET.includes(v.command)) {
    problems.push({
      input: 'target-version',
      problem: `is empty, and command ${v.command} needs a Kubernetes version`,
      fix: 'set target-version: 1.31 (newest published 1.31 patch) or an exact version such as 1.31.4',
    });
  }
  const inventory = v.inventory === undefined ? undefined : loadInventoryInput(v.inventory, env, problems);
  const backup = backupSettings(v, env, problems);
  if (problems.length > 0 || !upgrade) throw new InputError(problems);

  const warnings: string[] = [];
  const inlineBytes = inventory?.source === 'input' ? Buffer.byteLength(inventory.text) : 0;
  if (inlineBytes > INLINE_INVENTORY_WARN_BYTES) {
    warnings.push(
      `inventory: the inline YAML is ${inlineBytes} bytes; Linux refuses to start a step whose input is longer than ${MAX_INLINE_INVENTORY_BYTES} bytes (E2BIG, "Argument list too long"), so a few hundred more nodes will stop this step from starting. Fix: ${INVENTORY_FILE_FIX}`,
    );
  }
  if (v['ssh-insecure-skip-host-key-check']) {
    warnings.push(
      'ssh-insecure-skip-host-key-check is true: SSH host keys are NOT verified, so a machine in the middle could impersonate a node. Pass ssh-known-hosts or hostKeyFingerprint per node instead.',
    );
  }
  const jump = v['ssh-jump-host'];
  return {
    command: v.command,
    target: v['target-version'] ?? { raw: '', major: 0, minor: 0 },
    ...(inventory ? { inventory } : {}),
    ...(v.kubeconfig ? { kubeconfig: v.kubeconfig } : {}),
    allowKubeconfigExec: v['allow-kubeconfig-exec'],
    ssh: {
      ...(v['ssh-private-key'] ? { privateKey: v['ssh-private-key'] } : {}),
      ...(v['ssh-known-hosts'] ? { knownHosts: v['ssh-known-hosts'] } : {}),
      user: v['ssh-user'],
      port: v['ssh-port'],
      ...(jump ? { jumpHost: { ...jump, user: jump.user || v['ssh-user'] } } : {}),
      insecureSkipHostKeyCheck: v['ssh-insecure-skip-host-key-check'],
    },
    transport: v.transport,
    maxUnavailable: v['max-unavailable'],
    ...(v['batch-by-label'] ? { batchByLabel: v['batch-by-label'] } : {}),
    force: v.force,
    ...(v['github-token'] ? { githubToken: v['github-token'] } : {}),
    prComment: v['pr-comment'],
    parallelism: v.parallelism,
    warnings,
    upgrade,
    backup,
  };
}

type ParsedInputs = z.output<typeof inputSchema>;

/** The backup inputs that depend on each other (external etcd, rollback confirmation and source). */
function backupSettings(v: ParsedInputs, env: SettingsEnv, problems: InputProblem[]): BackupSettings {
  const externalEtcd = externalEtcdFrom(
    v['etcd-endpoints'],
    { caFile: v['etcd-ca'], certFile: v['etcd-cert'], keyFile: v['etcd-key'] },
    problems,
  );
  const source = parseRollbackSource(v['rollback-source'], env.workspace, env.realpath ?? defaultRealpath);
  if (isFail(source)) problems.push({ input: 'rollback-source', ...source });
  if (v.command === 'rollback' && v['confirm-rollback'] === '') {
    problems.push({
      input: 'confirm-rollback',
      problem: 'is empty, and command rollback rewinds the whole cluster to the backup (every change since then is lost)',
      fix: "set confirm-rollback to the cluster's name (the inventory's `cluster`) to confirm",
    });
  }
  return {
    enabled: v.backup,
    keep: v['backup-keep'],
    recipients: v['backup-encryption-recipients'],
    upload: v['backup-upload'],
    ...(v['artifact-retention-days'] !== undefined ? { retentionDays: v['artifact-retention-days'] } : {}),
    collectKubeadmBackups: v['collect-kubeadm-backups'],
    ...(externalEtcd ? { externalEtcd } : {}),
    confirmRollback: v['confirm-rollback'],
    rollbackSource: isFail(source) ? { kind: 'node' } : source,
  };
}

/** YAML text is recognised by a line break or a "key:" / "{"; anything else is a workspace path. */
export function looksLikeInventoryText(value: string): boolean {
  return /[\n\r]/.test(value) || /^\s*[{[]/.test(value) || /:\s/.test(value) || /^[A-Za-z_-]+:$/.test(value);
}

function loadInventoryInput(value: string, env: SettingsEnv, problems: InputProblem[]): Settings['inventory'] {
  if (looksLikeInventoryText(value)) {
    // Reached only where the platform allowed more (not Linux): the same limit everywhere, so a workflow that works
    // on one runner does not fail on another.
    if (Buffer.byteLength(value) > MAX_INLINE_INVENTORY_BYTES) {
      problems.push({
        input: 'inventory',
        problem: `inline YAML is ${Buffer.byteLength(value)} bytes, more than the ${MAX_INLINE_INVENTORY_BYTES} one input can carry on Linux (E2BIG)`,
        fix: INVENTORY_FILE_FIX,
      });
      return undefined;
    }
    return { text: value, source: 'input' };
  }
  const resolved = resolveWorkspacePath(value, env.workspace, env.realpath ?? defaultRealpath);
  if ('problem' in resolved) {
    problems.push({ input: 'inventory', ...resolved });
    return undefined;
  }
  const readFile = env.readFile ?? ((p: string) => readFileSync(p, 'utf8'));
  try {
    const text = readFile(resolved.absolute);
    if (Buffer.byteLength(text) > MAX_INVENTORY_BYTES) {
      problems.push({
        input: 'inventory',
        problem: `file ${resolved.relative} is larger than ${MAX_INVENTORY_BYTES} bytes`,
        fix: 'list only the nodes to upgrade (5,000 nodes take about 300 KB)',
      });
      return undefined;
    }
    return { text, source: resolved.relative };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    problems.push({
      input: 'inventory',
      problem: `file ${resolved.relative} cannot be read (${code ?? (error as Error).message})`,
      fix: 'check out the repository first (actions/checkout) and give the path relative to the workspace, or pass the YAML itself',
    });
    return undefined;
  }
}

/** A path given in the inventory input must stay inside GITHUB_WORKSPACE, also after its symlinks are resolved. */
export function resolveWorkspacePath(
  value: string,
  workspace: string | undefined,
  realpath: RealPath = defaultRealpath,
): { absolute: string; relative: string } | Fail {
  if (value.startsWith('-') || /[\0\n\r]/.test(value))
    return fail(`${quoteValue(value)} is not a usable path`, 'give a path relative to the workspace, such as .github/inventory.yaml');
  if (!workspace)
    return fail(
      `${quoteValue(value)} looks like a file path, but GITHUB_WORKSPACE is not set`,
      'pass the inventory YAML itself, or run in a GitHub workflow after actions/checkout',
    );
  return resolveInWorkspace(value, workspace, realpath, {
    fix: 'keep the inventory file in the repository (not a symlink to a file outside it) and give its path relative to the workspace',
  });
}
