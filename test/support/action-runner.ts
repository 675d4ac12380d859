// Runs the built bundle (dist/index.js) exactly as the GitHub runner does: INPUT_* for every action.yml
// input (defaults filled in, hyphens kept, upper-cased), empty command files, an event file, the context
// variables; then parses outputs, state and the job summary. runPost() re-runs it as the post step.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';

export const repoRoot = join(import.meta.dirname, '..', '..');
export const bundlePath = join(repoRoot, 'dist', 'index.js');

export interface ActionOptions {
  /** the bundle to run (default dist/index.js) */
  bundle?: string;
  /** GITHUB_EVENT_NAME and the payload written to GITHUB_EVENT_PATH */
  event?: { name: string; payload: object };
  /** the value `${{ github.token }}` stands for (default: empty) */
  githubToken?: string;
  apiUrl?: string;
  repository?: string;
  workflow?: string;
  workspace?: string;
  /** extra environment variables */
  env?: Record<string, string>;
  timeoutMs?: number;
  /**
   * Checked on every chunk of output and every 20 ms while the step runs: when it returns true the step is
   * killed with SIGKILL (a runner killed mid-step). It sees the run's directory (RUNNER_TEMP is dir/runner-temp) and the output so far.
   */
  killWhen?: (run: { dir: string; stdout: string }) => boolean;
  /** called with each chunk the step prints to stdout, as it prints it (to act when the log announces a stage) */
  onStdout?: (chunk: string) => void;
}

export interface ActionResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
  state: Record<string, string>;
  /** the directory holding this run's files (RUNNER_TEMP, command files) */
  dir: string;
  /** runs the post step with STATE_* from this run's state file */
  runPost(): Promise<ActionResult>;
}

/** Parses a runner command file: `name<<DELIM\nvalue\nDELIM` blocks and `name=value` lines. */
export function parseCommandFile(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delimiter] = heredoc as unknown as [string, string, string];
      const end = lines.indexOf(delimiter, i + 1);
      if (end < 0) throw new Error(`unterminated ${name}<<${delimiter} block in a command file`);
      values[name] = lines.slice(i + 1, end).join('\n');
      i = end;
    } else if (line.includes('=')) {
      values[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    }
  }
  return values;
}

/** INPUT_* for every declared input: the action.yml default (github.token resolved), then the test's values. */
export function inputEnvironment(inputs: Record<string, string>, githubToken = ''): Record<string, string> {
  const action = YAML.parse(readFileSync(join(repoRoot, 'action.yml'), 'utf8')) as { inputs?: Record<string, { default?: unknown }> };
  const declared = action.inputs ?? {};
  for (const name of Object.keys(inputs)) {
    if (!(name in declared)) throw new Error(`input ${name} is not declared in action.yml`);
  }
  const env: Record<string, string> = {};
  for (const [name, spec] of Object.entries(declared)) {
    const fallback = spec.default === undefined ? '' : String(spec.default).replace(/\$\{\{\s*github\.token\s*\}\}/g, githubToken);
    env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = inputs[name] ?? fallback;
  }
  return env;
}

function execute(
  bundle: string,
  env: Record<string, string>,
  timeoutMs: number,
  killWhen?: (stdout: string) => boolean,
  onStdout?: (chunk: string) => void,
): Promise<{ exitCode: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // Asynchronous on purpose: the test process also serves the GitHub API stand-in the action calls.
    const child = spawn(process.execPath, [bundle], { env, cwd: env.GITHUB_WORKSPACE, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const check = () => {
      if (killWhen && child.exitCode === null && killWhen(Buffer.concat(out).toString('utf8'))) child.kill('SIGKILL');
    };
    child.stdout.on('data', (c: Buffer) => {
      out.push(c);
      onStdout?.(c.toString('utf8'));
      check();
    });
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const watch = killWhen ? setInterval(check, 20) : undefined;
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      clearInterval(watch);
      resolve({ exitCode: code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

function readIfAny(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

async function runStep(
  bundle: string,
  baseEnv: Record<string, string>,
  dir: string,
  timeoutMs: number,
  extra: Record<string, string>,
  killWhen?: ActionOptions['killWhen'],
  onStdout?: (chunk: string) => void,
): Promise<ActionResult> {
  const files = {
    GITHUB_OUTPUT: 'output',
    GITHUB_STATE: 'state',
    GITHUB_STEP_SUMMARY: 'summary.md',
    GITHUB_ENV: 'env',
    GITHUB_PATH: 'path',
  };
  const step = mkdtempSync(join(dir, 'step-'));
  const env: Record<string, string> = { ...baseEnv, ...extra };
  for (const [variable, name] of Object.entries(files)) {
    env[variable] = join(step, name);
    writeFileSync(env[variable]!, '');
  }
  const result = await execute(bundle, env, timeoutMs, killWhen ? (stdout) => killWhen({ dir, stdout }) : undefined, onStdout);
  const state = parseCommandFile(readIfAny(env.GITHUB_STATE!));
  return {
    ...result,
    outputs: parseCommandFile(readIfAny(env.GITHUB_OUTPUT!)),
    summary: readIfAny(env.GITHUB_STEP_SUMMARY!),
    state,
    dir,
    runPost: () =>
      runStep(
        bundle,
        baseEnv,
        dir,
        timeoutMs,
        Object.fromEntries(Object.entries(state).map(([k, v]) => [`STATE_${k}`, v])),
        undefined,
        onStdout,
      ),
  };
}

/** Builds the bundle from the current sources into a temporary directory (dist/ stays as committed); returns its index.js. */
export async function buildBundle(): Promise<string> {
  const outdir = mkdtempSync(join(tmpdir(), 'kua-bundle-'));
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ['scripts/build.ts', '--outdir', outdir], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
    const err: Buffer[] = [];
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`build failed: ${Buffer.concat(err).toString('utf8')}`))));
  });
  return join(outdir, 'index.js');
}

/** Runs the main step of the bundle with these inputs. */
export async function runAction(inputs: Record<string, string>, options: ActionOptions = {}): Promise<ActionResult> {
  const dir = mkdtempSync(join(tmpdir(), 'kua-run-'));
  const workspace = options.workspace ?? join(dir, 'workspace');
  const runnerTemp = join(dir, 'runner-temp');
  mkdirSync(workspace, { recursive: true });
  mkdirSync(runnerTemp, { recursive: true });
  const event = options.event ?? { name: 'workflow_dispatch', payload: {} };
  const eventPath = join(dir, 'event.json');
  writeFileSync(eventPath, JSON.stringify(event.payload));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? dir,
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_EVENT_NAME: event.name,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REPOSITORY: options.repository ?? 'octo-org/clusters',
    GITHUB_REPOSITORY_OWNER: (options.repository ?? 'octo-org/clusters').split('/')[0]!,
    GITHUB_WORKFLOW: options.workflow ?? 'plan-preview',
    GITHUB_RUN_ID: '4242',
    GITHUB_RUN_NUMBER: '7',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_JOB: 'plan',
    GITHUB_ACTION: 'kubeadm-upgrade',
    GITHUB_ACTOR: 'octocat',
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_REF: 'refs/pull/1/merge',
    GITHUB_SERVER_URL: 'https://github.example',
    GITHUB_API_URL: options.apiUrl ?? 'http://127.0.0.1:9',
    GITHUB_GRAPHQL_URL: `${options.apiUrl ?? 'http://127.0.0.1:9'}/graphql`,
    GITHUB_WORKSPACE: workspace,
    RUNNER_TEMP: runnerTemp,
    RUNNER_OS: 'Linux',
    ...inputEnvironment(inputs, options.githubToken),
    ...options.env,
  };
  return runStep(options.bundle ?? bundlePath, env, dir, options.timeoutMs ?? 180_000, {}, options.killWhen, options.onStdout);
}

/** A workflow command as the runner parsed it from one line of a step's output. */
export interface WorkflowCommand {
  command: string;
  properties: Record<string, string>;
  data: string;
  /** 'v2' for `::name props::data` at the start of a line, 'legacy' for `##[name props]data` anywhere in it */
  syntax: 'v2' | 'legacy';
  line: string;
}

/**
 * The commands the runner registers (actions/runner ActionCommandManager: stop-commands plus every command
 * extension; the runner compares names ignoring case). A token given to stop-commands is registered while
 * commands are stopped.
 */
export const RUNNER_COMMANDS = [
  'stop-commands',
  'set-env',
  'set-output',
  'save-state',
  'add-mask',
  'add-path',
  'add-matcher',
  'remove-matcher',
  'warning',
  'error',
  'notice',
  'debug',
  'group',
  'endgroup',
  'echo',
];

/** .NET's char.IsWhiteSpace, which String.TrimStart uses (Unicode Zs/Zl/Zp, \t-\r, U+0085, U+00A0). */
const DOTNET_SPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*/;

function unescapeRunner(text: string, pairs: [string, string][]): string {
  let out = text;
  for (const [token, replacement] of pairs) out = out.split(replacement).join(token);
  return out;
}

function parseV2(line: string, registered: Set<string>): WorkflowCommand | undefined {
  const message = line.replace(DOTNET_SPACE, '');
  if (!message.startsWith('::')) return undefined;
  const end = message.indexOf('::', 2);
  if (end < 0) return undefined;
  const info = message.slice(2, end);
  const space = info.indexOf(' ');
  const command = space < 0 ? info : info.slice(0, space);
  if (!registered.has(command.toLowerCase())) return undefined;
  const properties: Record<string, string> = {};
  if (space > 0) {
    for (const pair of info
      .slice(space + 1)
      .trim()
      .split(',')
      .filter(Boolean)) {
      const eq = pair.indexOf('=');
      if (eq > 0 && eq < pair.length - 1)
        properties[pair.slice(0, eq)] = unescapeRunner(pair.slice(eq + 1), [
          ['\r', '%0D'],
          ['\n', '%0A'],
          [':', '%3A'],
          [',', '%2C'],
          ['%', '%25'],
        ]);
    }
  }
  const data = unescapeRunner(message.slice(end + 2), [
    ['\r', '%0D'],
    ['\n', '%0A'],
    ['%', '%25'],
  ]);
  return { command, properties, data, syntax: 'v2', line };
}

function parseLegacy(line: string, registered: Set<string>): WorkflowCommand | undefined {
  const start = line.indexOf('##[');
  if (start < 0) return undefined;
  const close = line.indexOf(']', start);
  if (close < 0) return undefined;
  const info = line.slice(start + 3, close);
  const space = info.indexOf(' ');
  const command = space < 0 ? info : info.slice(0, space);
  if (!registered.has(command.toLowerCase())) return undefined;
  const escapes: [string, string][] = [
    [';', '%3B'],
    ['\r', '%0D'],
    ['\n', '%0A'],
    [']', '%5D'],
    ['%', '%25'],
  ];
  const properties: Record<string, string> = {};
  if (space > 0) {
    for (const pair of info
      .slice(space + 1)
      .split(';')
      .filter(Boolean)) {
      const eq = pair.indexOf('=');
      if (eq > 0 && eq < pair.length - 1) properties[pair.slice(0, eq)] = unescapeRunner(pair.slice(eq + 1), escapes);
    }
  }
  return { command, properties, data: unescapeRunner(line.slice(close + 1), escapes), syntax: 'legacy', line };
}

/**
 * The workflow commands the runner would execute from a step's output, by the runner's rules
 * (actions/runner ActionCommand.TryParseV2 / TryParse, ActionCommandManager.TryProcessCommand): output is
 * read line by line (\n, \r\n and a lone \r all end a line, as .NET's ReadLine does); a line is first tried as
 * `::command props::data` after leading white space, then as `##[command props]data` found anywhere in it;
 * the command must be registered (case ignored); after `stop-commands` nothing runs until its token comes.
 */
export function parseWorkflowCommands(output: string): WorkflowCommand[] {
  const registered = new Set(RUNNER_COMMANDS);
  const issued: WorkflowCommand[] = [];
  let stopToken: string | undefined;
  for (const line of output.split(/\r\n|\r|\n/)) {
    if (line === '') continue;
    const parsed = parseV2(line, registered) ?? parseLegacy(line, registered);
    if (!parsed) continue;
    const name = parsed.command.toLowerCase();
    if (stopToken !== undefined) {
      if (name === stopToken.toLowerCase()) {
        registered.delete(stopToken.toLowerCase());
        stopToken = undefined;
        issued.push(parsed);
      }
      continue;
    }
    issued.push(parsed);
    if (name === 'stop-commands') {
      stopToken = parsed.data;
      registered.add(stopToken.toLowerCase());
    }
  }
  return issued;
}
