// Make the node schedulable again, unless the operator had cordoned it before the run: that fence stays.
import type { Stage } from '../types.ts';

export const uncordon: Stage = {
  name: 'uncordon',
  title: 'uncordon',
  steps: ({ job, node }) => [
    node.cordonedBefore
      ? {
          kind: 'cluster',
          text: "leave the node cordoned: it was cordoned before the upgrade (an operator's fence is never undone)",
          run: async (ctx) =>
            ctx.cordon(true, 'was cordoned before the run, so it stays cordoned (uncordon it yourself when it may take pods)'),
        }
      : {
          kind: 'cluster',
          text: 'uncordon the node',
          async run(ctx) {
            const changed = await ctx.cluster.uncordon(job.name);
            ctx.say(changed ? `${job.name} uncordoned` : `${job.name} was already schedulable`);
            ctx.cordon(false, 'uncordoned after the upgrade');
          },
        },
  ],
};
