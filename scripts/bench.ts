// `npm run bench`: how long planning takes on a large cluster, and how big its reports get.
// Brings up the simulator with API-only workers (Node objects and pods, no sshd), then times the plan's
// cluster read (paginated lists), the pure plan and the report rendering, each `--runs` times.
//   npm run bench -- [--nodes 5000] [--pods-per-node 30] [--runs 3]
import { performance } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { kubeConfigFromText, readCluster } from '../src/adapters/cluster/read-cluster.ts';
import { parseSettings } from '../src/core/settings.ts';
import { inventoryFromCluster } from '../src/core/inventory.ts';
import { buildPlan } from '../src/core/plan.ts';
import { planCommentMarkdown, planOutputs, planSummaryMarkdown } from '../src/report/plan-report.ts';
import { startCluster } from '../sim/index.ts';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '5000' },
    'pods-per-node': { type: 'string', default: '30' },
    runs: { type: 'string', default: '3' },
  },
});
const nodes = Number(values.nodes);
const podsPerNode = Number(values['pods-per-node']);
const runs = Number(values.runs);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const mib = (s: string) => (Buffer.byteLength(s) / 1024 / 1024).toFixed(2);

console.error(`bench: starting the simulator with ${nodes} API-only workers × ${podsPerNode} pods…`);
const upStart = performance.now();
const cluster = await startCluster({ controlPlanes: 1, workers: 1, apiOnlyWorkers: nodes, podsPerNode });
const upMs = performance.now() - upStart;
try {
  const kc = kubeConfigFromText(readFileSync(cluster.kubeconfigPath, 'utf8'));
  const inputs: Record<string, string> = { command: 'plan', 'target-version': '1.31', 'max-unavailable': '10%' };
  const settings = parseSettings((name) => inputs[name] ?? '');
  const times = { read: [] as number[], plan: [] as number[], render: [] as number[] };
  let sizes = { summary: '', comment: '', plan: '' };
  let counts = { nodes: 0, pods: 0 };
  for (let i = 0; i < runs; i++) {
    let t = performance.now();
    const api = await readCluster(kc);
    times.read.push(performance.now() - t);
    const state = { ...api, nodeReports: [] };
    const inventory = inventoryFromCluster(state.nodes, settings);
    t = performance.now();
    const plan = buildPlan(state, settings, inventory);
    times.plan.push(performance.now() - t);
    t = performance.now();
    const summary = planSummaryMarkdown(plan);
    const comment = planCommentMarkdown(plan, '<!-- bench -->');
    const outputs = planOutputs(plan);
    times.render.push(performance.now() - t);
    sizes = { summary, comment, plan: outputs.plan ?? '' };
    counts = { nodes: state.nodes.length, pods: state.pods.length };
  }
  console.log(`cluster: ${counts.nodes} nodes, ${counts.pods} pods (simulator up in ${(upMs / 1000).toFixed(1)} s)`);
  console.log(`median of ${runs} runs:`);
  console.log(`  read cluster (paginated API lists): ${(median(times.read) / 1000).toFixed(2)} s`);
  console.log(`  build plan (pure):                  ${(median(times.plan) / 1000).toFixed(2)} s`);
  console.log(`  render summary, comment, outputs:   ${(median(times.render) / 1000).toFixed(2)} s`);
  console.log(
    `sizes: job summary ${mib(sizes.summary)} MiB (limit 1), PR comment ${sizes.comment.length} chars (limit 65536), plan output ${mib(sizes.plan)} MiB`,
  );
} finally {
  await cluster.stop();
}
