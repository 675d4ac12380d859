// The `plan` output: the Plan as JSON, kept under ~900 KB for 3,000 nodes. When the full plan is larger,
// detail is dropped in a fixed order and each drop is named in `omitted`:
//   1. drain-forecast batches without findings (their counts stay in forecast.totals);
//   2. the per-node list beyond the first 500 nodes (order and matrices keep every node name);
//   3. worker batches beyond the first 500 (counts stay in the reports).
import type { Plan } from '../core/plan-types.ts';

export const MAX_PLAN_OUTPUT_BYTES = 900 * 1000;

const KEEP_NODES = 500;

function size(plan: Plan): number {
  return Buffer.byteLength(JSON.stringify(plan));
}

export function compactPlanJson(plan: Plan, max = MAX_PLAN_OUTPUT_BYTES): string {
  let out = plan;
  if (size(out) <= max) return JSON.stringify(out);
  const withFindings = plan.forecast.batches.filter(
    (b) => !b.capacity.fits || b.budgets.length > 0 || b.multiBudgetPods.length > 0 || b.nodes.some((n) => n.unmanaged > 0),
  );
  out = {
    ...out,
    forecast: { ...plan.forecast, batches: withFindings },
    omitted: [
      ...out.omitted,
      `forecast.batches lists only the ${withFindings.length} batch(es) with findings (of ${plan.forecast.batches.length}); forecast.totals counts all`,
    ],
  };
  if (size(out) <= max) return JSON.stringify(out);
  out = {
    ...out,
    nodes: plan.nodes.slice(0, KEEP_NODES),
    omitted: [...out.omitted, `nodes lists the first ${KEEP_NODES} of ${plan.nodes.length} nodes`],
  };
  if (size(out) <= max) return JSON.stringify(out);
  out = {
    ...out,
    order: { ...out.order, workerBatches: out.order.workerBatches.slice(0, KEEP_NODES) },
    omitted: [
      ...out.omitted,
      `order.workerBatches lists the first ${KEEP_NODES} of ${plan.order.workerBatches.length} batches (worker-matrix has them all)`,
    ],
  };
  if (size(out) <= max) return JSON.stringify(out);
  out = {
    ...out,
    forecast: { ...out.forecast, batches: out.forecast.batches.slice(0, 50) },
    omitted: [...out.omitted, 'forecast.batches cut to 50'],
  };
  return JSON.stringify(out);
}
