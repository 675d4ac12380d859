// API faults that outlast a call's budget, and an API away at the end of a run, through the bundle on a simulated
// 1 + 1 cluster (api-retry-budget 10s):
// 1. a 403 to the PATCH recording worker-1's uncordon stage: the stage fails, and the summary says so in a
//    sentence (status, reason, the API's message), never the client's dump with headers;
// 2. a re-run meets 500 on that PATCH, and from worker-1's uncordon on, on every Lease call: the call fails after
//    10 s naming itself, the status and the fix; the lock cannot be released by the run nor by its post step, and
//    both say when the Lease expires (its renewTime + leaseDurationSeconds, as read once the API is back);
// 3. a re-run attempt of that run finishes, but the Lease calls answer 503 from the end of its last node on: its
//    own release gives up after 10 s, and the post step, trying again, releases the Lease once the API is back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { startCluster, type SimCluster } from '../../sim/index.ts';
import type { FaultSpec } from '../../sim/cluster/faults.ts';
import { buildBundle, runAction, type ActionResult } from '../support/action-runner.ts';
import { onLogLine, upgradeInputs } from './upgrade-helpers.ts';

/** The end of a step's log for an assertion message, without its ::add-mask:: lines (they hold the inputs). */
const tail = (stdout: string, chars: number) =>
  stdout
    .split('\n')
    .filter((l) => !l.startsWith('::add-mask::'))
    .join('\n')
    .slice(-chars);

/** the lock of the simulator's inventory, which names the cluster "sim" (lockName) */
const LEASE = 'kubeadm-upgrade-action-sim';
const LEASES = '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases';
/** the merge patch recording a node's uncordon stage (as started, or as anything) */
const UNCORDON = '"upgrade.kubeadm-upgrade-action.io/stage":"uncordon"';
const UNCORDON_STARTED = `${UNCORDON},"upgrade.kubeadm-upgrade-action.io/stage-status":"started"`;
let cluster: SimCluster;
let refused: ActionResult;
let broken: ActionResult;
let brokenPost: ActionResult;
let leaseAfterBroken: { renewTime: string; leaseDurationSeconds: number };
let recovered: ActionResult;
let recoveredPost: ActionResult;
let leaseAfterRecoveredPost: string;

const kubectl = (...args: string[]) =>
  execFileSync('/usr/bin/kubectl', ['--kubeconfig', cluster.kubeconfigPath, ...args], { encoding: 'utf8', stdio: 'pipe' });

interface RecordNode {
  name: string;
  status: string;
  stages: { name: string; status: string; message?: string }[];
}
const nodesOf = (result: ActionResult) => (JSON.parse(result.outputs.result!) as { nodes: RecordNode[] }).nodes;
const failedStage = (result: ActionResult, node: string) =>
  nodesOf(result)
    .find((n) => n.name === node)!
    .stages.find((s) => s.status === 'failed');

beforeAll(async () => {
  let bundle: string;
  [bundle, cluster] = await Promise.all([buildBundle(), startCluster({ controlPlanes: 1, workers: 1, version: '1.30.5', os: 'debian' })]);
  const inputs = upgradeInputs(cluster, { 'max-unavailable': '1', 'allow-pending-pods': 'true', 'api-retry-budget': '10s' });

  // 1. the PATCH recording worker-1's uncordon stage as started is refused, once
  cluster.setFaults([
    { type: 'api-error', status: 403, method: 'PATCH', path: '/api/v1/nodes/worker-1', body: UNCORDON_STARTED, times: 1 },
  ]);
  refused = await runAction(inputs, { bundle, env: { GITHUB_RUN_ID: '9501' }, timeoutMs: 300_000 });
  await refused.runPost();

  // 2. every PATCH recording worker-1's uncordon stage answers 500; once that stage starts, every Lease call too
  const uncordon500: FaultSpec = { type: 'api-error', status: 500, method: 'PATCH', path: '/api/v1/nodes/worker-1', body: UNCORDON };
  cluster.setFaults([uncordon500]);
  broken = await runAction(inputs, {
    bundle,
    env: { GITHUB_RUN_ID: '9502' },
    timeoutMs: 300_000,
    onStdout: onLogLine([
      { line: '▶ worker-1: uncordon', act: () => cluster.setFaults([uncordon500, { type: 'api-error', status: 500, path: LEASES }]) },
    ]),
  });
  brokenPost = await broken.runPost();
  cluster.setFaults([]);
  try {
    leaseAfterBroken = JSON.parse(kubectl('-n', 'kube-system', 'get', 'lease', LEASE, '-o', 'jsonpath={.spec}'));
  } catch (error) {
    throw new Error(`no Lease after the broken run: ${String(error)}\n${tail(broken.stdout, 4000)}\n${tail(brokenPost.stdout, 2000)}`);
  }

  // attempt 2 of run 9502 takes over the Lease its attempt 1 left
  let post = false;
  const main = onLogLine([
    {
      line: '✔ worker-1 upgraded',
      act: () => cluster.setFaults([{ type: 'api-error', status: 503, path: LEASES }]),
    },
  ]);
  // the post step met the outage: the API comes back
  const afterwards = onLogLine([{ line: 'with HTTP 503', act: () => cluster.setFaults([]) }]);
  recovered = await runAction(inputs, {
    bundle,
    env: { GITHUB_RUN_ID: '9502', GITHUB_RUN_ATTEMPT: '2' },
    timeoutMs: 300_000,
    onStdout: (chunk) => (post ? afterwards(chunk) : main(chunk)),
  });
  post = true;
  recoveredPost = await recovered.runPost();
  cluster.setFaults([]);
  try {
    leaseAfterRecoveredPost = kubectl('-n', 'kube-system', 'get', 'lease', LEASE, '-o', 'name');
  } catch (error) {
    leaseAfterRecoveredPost = String((error as { stderr?: string }).stderr);
  }
}, 900_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('an uncordon stage refused by the API', () => {
  it('fails worker-1 at uncordon with a sentence: status, reason and the API message, no headers', () => {
    expect(refused.exitCode, tail(refused.stdout, 3000)).toBe(1);
    const failed = failedStage(refused, 'worker-1')!;
    expect(failed.name).toBe('uncordon');
    expect(failed.message).toBe('the API server refused patchNode worker-1: HTTP 403 Forbidden: forbidden: the request was refused');
    expect(refused.summary).toContain('the API server refused patchNode worker-1: HTTP 403 Forbidden');
    for (const text of [refused.summary, refused.outputs.result!, refused.stdout])
      expect(text).not.toMatch(/HTTP-Code|Headers:|"content-type"/);
  });
});

describe('a 500 beyond api-retry-budget', () => {
  it('fails the call after its budget, naming the call, the status and the fix', () => {
    expect(broken.exitCode, tail(broken.stdout, 3000)).toBe(1);
    const failed = failedStage(broken, 'worker-1')!;
    expect(failed.name).toBe('uncordon');
    expect(failed.message).toMatch(
      /^the API server answered patchNode worker-1 with HTTP 500 InternalError: .* for 1\ds; check that it is running and reachable from this runner .*, or raise api-retry-budget \(10s\) to wait longer$/,
    );
    expect(broken.summary).toContain('the API server answered patchNode worker-1 with HTTP 500 InternalError');
    expect(broken.summary).not.toMatch(/HTTP-Code|Headers/);
  });

  it('the run and its post step say the Lease is left to expire, and when', () => {
    const renewed = Date.parse(leaseAfterBroken.renewTime);
    const expiry = new Date(Math.floor(renewed / 1000) * 1000 + leaseAfterBroken.leaseDurationSeconds * 1000)
      .toISOString()
      .replace('.000Z', 'Z');
    const left = `It is left to expire at ${expiry} (its last renewal + lock-ttl)`;
    expect(broken.summary).toContain(`The cluster lock (Lease kube-system/${LEASE}) was not released: `);
    expect(broken.summary).toContain(left);
    expect(brokenPost.summary).toContain(left);
    expect(brokenPost.summary).toContain(`kubectl -n kube-system delete lease ${LEASE}`);
    expect(brokenPost.stdout).toContain(`::warning::The cluster lock (Lease kube-system/${LEASE}) was not released: `);
    expect(brokenPost.stdout).toMatch(/was not released: cannot read Lease .* with HTTP 500 InternalError: .* for 1\ds; /);
  });
});

describe('the Lease API away at the end of a run', () => {
  it('the run finishes; its own release gives up, saying the post step tries again', () => {
    expect(recovered.exitCode, tail(recovered.stdout, 3000)).toBe(0);
    expect(recovered.summary + recovered.stdout).toMatch(/took over the cluster lock from .* run 9502 attempt 1/);
    expect(recovered.summary).toMatch(/was not released: .*HTTP 503 ServiceUnavailable.*The post step tries again to release it\./);
  });

  it('the post step retries and releases the Lease once the API is back', () => {
    expect(recoveredPost.stdout, tail(recovered.stdout, 2000) + tail(recoveredPost.stdout, 3000)).toContain(
      `the API server answered readNamespacedLease kube-system/${LEASE} with HTTP 503`,
    );
    expect(recoveredPost.stdout).toContain(`cluster lock ${LEASE} released`);
    expect(recoveredPost.summary).toBe('');
    expect(leaseAfterRecoveredPost).toMatch(/NotFound/);
  });
});
