import { describe, expect, it } from 'vitest';
import type { ClusterState } from '../../src/core/cluster-state.ts';
import { buildPlan } from '../../src/core/plan.ts';
import {
  MAX_COMMENT_CHARS,
  MAX_PLAN_OUTPUT_BYTES,
  planCommentMarkdown,
  planOutputs,
  planSummaryMarkdown,
} from '../../src/report/plan-report.ts';
import { cluster, inventoryOf, pod, settingsFrom } from '../core/fixtures.ts';

const MARKER = '<!-- kubeadm-upgrade-action:plan:prod -->';
const plan = (state: ClusterState, inputs: Record<string, string> = {}) => buildPlan(state, settingsFrom(inputs), inventoryOf(state));

describe('job summary', () => {
  it('puts the sections in the documented order, verdict first', () => {
    const md = planSummaryMarkdown(plan(cluster({ controlPlanes: 2, workers: 2, podsPerWorker: 2 })));
    const at = (s: string) => md.indexOf(s);
    const order = [
      '✅ Can upgrade: 1.30.5 → 1.31.4',
      '#### Components',
      '#### Version skew',
      '#### Preflight',
      '#### Node order',
      '#### Drain forecast',
      '#### What an upgrade run would do',
    ].map(at);
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('shows the kubeadm upgrade plan table with per-node rows', () => {
    const md = planSummaryMarkdown(plan(cluster({ controlPlanes: 2, workers: 1 })));
    expect(md).toContain('| COMPONENT | NODE | CURRENT | TARGET |');
    expect(md).toContain('| kube-apiserver | cp-2 | v1.30.5 | v1.31.4 |');
    expect(md).toContain('| etcd | cp-1 | 3.5.15-0 | chosen by kubeadm |');
    expect(md).toContain('| kubelet | worker-1 | v1.30.5 | v1.31.4 |');
    expect(md).toContain('| CoreDNS |  | v1.11.3 | chosen by kubeadm |');
  });

  it('says why a plan is blocked, and lists the blockers', () => {
    const state = cluster();
    state.nodeReports[1]!.swapOn = true;
    const md = planSummaryMarkdown(plan(state));
    expect(md).toMatch(/### ⛔ Blocked: 1\.30\.5 → 1\.31\.4/);
    expect(md).toMatch(/- `swap-off` \(preflight\): swap is on on worker-1/);
  });

  it('escapes cluster data that could inject HTML or break tables', () => {
    const state = cluster({ workers: 1 });
    state.pods = [pod('x', 'worker-1', { controllerKind: undefined, namespace: '<img src=x onerror=alert(1)>|' })];
    const md = planSummaryMarkdown(plan(state));
    expect(md).not.toContain('<img');
    expect(md).toContain('&lt;img src=x onerror=alert(1)&gt;\\|/x');
  });
});

describe('PR comment', () => {
  it('starts with the marker and shows only problems', () => {
    const state = cluster();
    state.nodeReports[0]!.kubectlVersion = '1.28.0';
    const c = planCommentMarkdown(plan(state), MARKER);
    expect(c.startsWith(`${MARKER}\n`)).toBe(true);
    expect(c).toContain('upstream-kubectl');
    expect(c).not.toContain('api-reachable');
  });
});

describe('outputs', () => {
  it('gives versions, blockers and matrices ready for strategy.matrix', () => {
    const out = planOutputs(plan(cluster({ controlPlanes: 2, workers: 3 }), { 'max-unavailable': '2' }));
    expect(out).toMatchObject({ 'upgrade-needed': 'true', 'current-version': '1.30.5', 'target-version': '1.31.4', blockers: '0' });
    expect(JSON.parse(out['control-plane-matrix']!)).toEqual({
      include: [
        { batch: 0, nodes: 'cp-1' },
        { batch: 1, nodes: 'cp-2' },
      ],
    });
    expect(JSON.parse(out['worker-matrix']!)).toEqual({
      include: [
        { batch: 0, nodes: 'worker-1,worker-2' },
        { batch: 1, nodes: 'worker-3' },
      ],
    });
    expect(JSON.parse(out.plan!)).toMatchObject({ schemaVersion: 2, verdict: 'ready' });
  });

  it('up to date: upgrade-needed false, no control plane to run, worker batches as before (every node skipped)', () => {
    const out = planOutputs(plan(cluster({ version: '1.31.4' })));
    expect(out).toMatchObject({ 'upgrade-needed': 'false', 'control-plane-matrix': '{"include":[]}', blockers: '0' });
    expect(JSON.parse(out['worker-matrix']!)).toEqual({
      include: [
        { batch: 0, nodes: 'worker-1' },
        { batch: 1, nodes: 'worker-2' },
      ],
    });
  });
});

describe('3,000 nodes and 90,000 pods', () => {
  const state = cluster({ controlPlanes: 3, workers: 2997, podsPerWorker: 30 });
  // One worker with an unmanaged pod deep in the list: the reports must still show it.
  state.pods.push(pod('stray', 'worker-2500', { controllerKind: undefined }));
  const big = plan(state, { 'max-unavailable': '1' });

  it('job summary stays under 1 MiB, collapses rows into counts, keeps the blocker visible', () => {
    const md = planSummaryMarkdown(big);
    expect(Buffer.byteLength(md)).toBeLessThan(1024 * 1024);
    expect(md).toMatch(/\| kubelet \| 2,800 more nodes \| v1\.30\.5 \| v1\.31\.4 \|/);
    expect(md).toContain('default/stray');
    expect(md).toMatch(/more batch\(es\) without findings/);
  });

  it('PR comment stays under 65,000 characters', () => {
    const c = planCommentMarkdown(big, MARKER);
    expect(c.length).toBeLessThan(MAX_COMMENT_CHARS);
    expect(c).toContain(MARKER);
    expect(c).toContain('default/stray');
  });

  it('plan output stays under ~900 KB and says what it left out', () => {
    const out = planOutputs(big);
    expect(Buffer.byteLength(out.plan!)).toBeLessThanOrEqual(MAX_PLAN_OUTPUT_BYTES);
    const parsed = JSON.parse(out.plan!);
    expect(parsed.omitted.join()).toMatch(/forecast.batches lists only the 1 batch/);
    expect(parsed.forecast.totals.evict).toBe(2997 * 30);
    expect(JSON.parse(out['worker-matrix']!).include).toHaveLength(2997);
  });
});
