// What the runner itself is exposed to, through the built bundle as the runner runs it (issue #10, items 4-6):
// a node printing workflow commands (`::set-output`, `::save-state`, `::stop-commands::`, `##[add-mask]` …) issues
// none of them, parsed by the runner's own rules; a backup whose tar fails on one node, or whose process is killed
// mid-backup, leaves no plaintext (snapshot bytes, a tar header, a private key) anywhere the run wrote; a kubeconfig
// whose user runs a program (exec plugin, auth-provider) is refused before anything connects, and the program never
// runs. One cluster (1 control plane, 1 worker) for the file; the kubeconfig cases need none.
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { startCluster, type SimCluster } from '../../sim/index.ts';
import { buildBundle, parseWorkflowCommands, runAction, type ActionResult } from '../support/action-runner.ts';
import { clusterSecretFragments } from '../backup/secrets.ts';
import { etcdctlArgs, runOnNode } from '../backup/sim-helpers.ts';
import { upgradeInputs } from './upgrade-helpers.ts';

let bundle: string;
let cluster: SimCluster;

beforeAll(async () => {
  [bundle, cluster] = await Promise.all([buildBundle(), startCluster({ controlPlanes: 1, workers: 1 })]);
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
});

const tail = (r: ActionResult) => `${r.stdout.slice(-3000)}\n${r.stderr.slice(-2000)}`;

/** Every file under dir (recursively), whatever its size. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const info = statSync(path);
    if (info.isDirectory()) out.push(...filesUnder(path));
    else if (info.isFile()) out.push(path);
  }
  return out;
}

describe('node output never commands the runner', () => {
  // what a hostile node (or package mirror) prints: every form the runner would take for a command
  const HOSTILE = [
    '::set-output name=outcome::succeeded',
    '   ::save-state name=lock::{"name":"spoofed","holder":{}}',
    '::stop-commands::pwnedtoken',
    '##[add-mask]kubeadm',
    'text before ##[set-output name=result;]pwned-legacy',
    '::error::pwned-annotation',
    'a line\r::warning::pwned-after-carriage-return',
    '\t::ADD-MASK::upgrade',
    '\u00a0::notice::pwned-after-nbsp',
    '::pwnedtoken::',
  ].join('\n');
  let failed: ActionResult;
  let post: ActionResult;

  beforeAll(async () => {
    cluster.setFaults([{ type: 'command-fails', node: 'cp-1', match: 'apt-get install', stderr: HOSTILE, times: 1 }]);
    failed = await runAction(upgradeInputs(cluster, { backup: 'false' }), { bundle, env: { GITHUB_RUN_ID: '9101' }, timeoutMs: 300_000 });
    cluster.setFaults([]);
    post = await failed.runPost();
  }, 420_000);

  test('the node printed them, the job log shows them, and the runner would execute none of them', () => {
    expect(failed.exitCode, tail(failed)).toBe(1);
    // the node's text is in the log (visible to the reader), not dropped
    expect(failed.stdout).toContain('set-output name=outcome');
    expect(failed.stdout).toContain('pwned-after-carriage-return');
    // core.setSecret masks the input as core.getInput reads it: trimmed
    const secrets = new Set(['kubeconfig', 'ssh-private-key'].map((name) => upgradeInputs(cluster)[name]?.trim()));
    for (const step of [failed, post]) {
      for (const command of parseWorkflowCommands(`${step.stdout}\n${step.stderr}`)) {
        const what = `${command.command} from line ${JSON.stringify(command.line.slice(0, 120))}`;
        expect(command.syntax, what).toBe('v2');
        expect(['add-mask', 'group', 'endgroup', 'warning', 'error', 'notice', 'debug'], what).toContain(command.command);
        if (command.command === 'add-mask') expect(secrets.has(command.data), what).toBe(true);
        expect(command.data.startsWith('pwned'), what).toBe(false);
      }
    }
  });

  test("the outputs and the post step's state are the Action's own", () => {
    expect(failed.outputs.outcome).toBe('failed');
    expect(failed.outputs.result).not.toBe('pwned-legacy');
    const lock = JSON.parse(failed.state.lock ?? '{}') as { name?: string };
    expect(lock.name).not.toBe('spoofed');
    expect(lock.name).toMatch(/kubeadm-upgrade/);
    expect(post.exitCode, tail(post)).toBe(0);
  });
});

describe('no plaintext backup is left on the runner', () => {
  const PLANTED = 'PLAINTEXT-MARKER-etcd-value-5e1d';
  let recipient: string;
  let needles: { what: string; bytes: Buffer }[];

  beforeAll(async () => {
    recipient = await identityToRecipient(await generateIdentity());
    await runOnNode(cluster, 'cp-1', etcdctlArgs(cluster.spec.nodes[0]!, 'put', '/registry/secrets/default/planted', PLANTED));
    needles = [
      { what: 'the planted etcd value (snapshot bytes)', bytes: Buffer.from(PLANTED) },
      { what: 'a tar header', bytes: Buffer.from('ustar') },
      { what: 'a PEM private key header', bytes: Buffer.from('PRIVATE KEY-----') },
      ...clusterSecretFragments(cluster.dir).map((f) => ({ what: `private key fragment ${f.slice(0, 8)}…`, bytes: Buffer.from(f) })),
    ];
  }, 60_000);

  function backupInputs(): Record<string, string> {
    const { 'target-version': _, ...access } = upgradeInputs(cluster);
    return { ...access, command: 'backup', 'backup-encryption-recipients': recipient };
  }

  /** What plaintext any file of the run holds (RUNNER_TEMP, the workspace, the step's command files). */
  function plaintextIn(dir: string): string[] {
    const found: string[] = [];
    for (const file of filesUnder(dir)) {
      const content = readFileSync(file);
      for (const needle of needles) if (content.includes(needle.bytes)) found.push(`${file}: ${needle.what}`);
    }
    return found;
  }

  test('a failed tar on one node leaves no plaintext; the error names the node and the step', async () => {
    cluster.setFaults([{ type: 'command-fails', node: 'worker-1', match: 'tar -cf', stderr: 'tar: simulated write error' }]);
    const result = await runAction(backupInputs(), { bundle, env: { GITHUB_RUN_ID: '9201' }, timeoutMs: 300_000 });
    cluster.setFaults([]);
    expect(result.exitCode, tail(result)).toBe(1);
    expect(result.stdout).toMatch(/packing the files on worker-1 failed/);
    await result.runPost();
    expect(plaintextIn(result.dir)).toEqual([]);
  }, 300_000);

  test('a backup killed while its files arrive leaves no plaintext, also after the post step', async () => {
    // killed once the first control plane's snapshot and files have reached the runner, before the worker's
    const killed = await runAction(backupInputs(), {
      bundle,
      env: { GITHUB_RUN_ID: '9202' },
      timeoutMs: 300_000,
      killWhen: ({ stdout }) => /cp-1: .*files\.tar .*(to the runner|into the encrypted archive)/.test(stdout),
    });
    expect(killed.exitCode, tail(killed)).toBe(null);
    expect(killed.stdout).not.toMatch(/worker-1: .*files\.tar/);
    const post = await killed.runPost();
    expect(plaintextIn(killed.dir)).toEqual([]);
    // the post step removed the incomplete archive the kill left
    expect(post.stdout).toMatch(/removed 1 incomplete backup archive/);
    expect(filesUnder(join(killed.dir, 'runner-temp')).filter((f) => f.endsWith('.partial'))).toEqual([]);
  }, 300_000);

  test('a backup that finishes leaves only the encrypted archive and its manifest', async () => {
    const result = await runAction(backupInputs(), { bundle, env: { GITHUB_RUN_ID: '9203' }, timeoutMs: 300_000 });
    expect(result.exitCode, tail(result)).toBe(0);
    const path = result.outputs['backup-path'] ?? '';
    expect(readdirSync(path).sort()).toEqual(['kubeadm-backup-sim-run-9203.tar.age', 'manifest.json']);
    expect(plaintextIn(result.dir)).toEqual([]);
    expect(result.stdout).toMatch(/cp-1: etcd snapshot verified \(revision \d+/);
  }, 300_000);
});

describe('a kubeconfig is code', () => {
  const work = mkdtempSync(join(tmpdir(), 'kubeconfig-code-'));

  /** A kubeconfig whose user runs /bin/sh to get a credential; the shell leaves a marker file. */
  function kubeconfigRunning(user: string): string {
    return [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{ name: c, cluster: { server: "https://127.0.0.1:1", insecure-skip-tls-verify: true } }]',
      `users: [{ name: u, user: ${user} }]`,
      'contexts: [{ name: x, context: { cluster: c, user: u } }]',
      'current-context: x',
    ].join('\n');
  }
  const credential = join(work, 'credential.json');
  writeFileSync(credential, '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"t"}}\n');
  const execUser = (marker: string) =>
    `{ exec: { apiVersion: client.authentication.k8s.io/v1, command: /bin/sh, args: ["-c", "touch ${marker}; cat ${credential}"], interactiveMode: Never } }`;
  const gcpUser = (marker: string) => `{ auth-provider: { name: gcp, config: { cmd-path: /bin/sh, cmd-args: "-c 'touch ${marker}'" } } }`;

  test('an exec plugin is refused by default, naming the input, and never runs', async () => {
    const marker = join(work, 'exec-ran');
    const result = await runAction({ 'target-version': '1.31', kubeconfig: kubeconfigRunning(execUser(marker)) }, { bundle });
    expect(result.exitCode).toBe(1);
    const error = result.stdout.split('\n').find((l) => l.startsWith('::error::')) ?? '';
    expect(error).toMatch(/kubeconfig: .*user u .*exec/);
    expect(error).toContain('allow-kubeconfig-exec');
    expect(existsSync(marker)).toBe(false);
  });

  test('an auth-provider is refused even with allow-kubeconfig-exec, and never runs', async () => {
    const marker = join(work, 'gcp-ran');
    const result = await runAction(
      { 'target-version': '1.31', kubeconfig: kubeconfigRunning(gcpUser(marker)), 'allow-kubeconfig-exec': 'true' },
      { bundle },
    );
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/::error::.*kubeconfig: .*auth-provider gcp/);
    expect(existsSync(marker)).toBe(false);
  });

  test('allow-kubeconfig-exec: true lets the exec plugin run', async () => {
    const marker = join(work, 'exec-allowed');
    const result = await runAction(
      { 'target-version': '1.31', kubeconfig: kubeconfigRunning(execUser(marker)), 'allow-kubeconfig-exec': 'true' },
      { bundle },
    );
    expect(result.stdout).not.toContain('allow-kubeconfig-exec');
    expect(existsSync(marker)).toBe(true);
  });
});
