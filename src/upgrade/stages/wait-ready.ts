// The node is upgraded when its Node is Ready again and reports the new kubelet version.
import type { Stage } from '../types.ts';

const READY_POLL_MS = 2000;

export const waitReady: Stage = {
  name: 'wait-ready',
  title: 'wait until the node is Ready with the new kubelet',
  steps: ({ job, target, readyTimeoutMs }) => [
    {
      kind: 'cluster',
      text: `wait up to ${Math.round(readyTimeoutMs / 1000)} s until the Node is Ready and reports kubelet v${target.version}`,
      async run(ctx) {
        const deadline = ctx.clock.now() + readyTimeoutMs;
        let last = 'not read yet';
        for (;;) {
          const status = await ctx.cluster.nodeStatus(job.name).catch((error: Error) => ({ error: error.message }));
          if (!status) last = 'the Node object is missing';
          else if ('error' in status) last = `cannot read the Node: ${status.error}`;
          else if (status.ready && status.kubeletVersion === target.version) {
            ctx.say(`${job.name} is Ready with kubelet v${status.kubeletVersion}`);
            return;
          } else
            last = `${status.ready ? 'Ready' : 'NotReady'}${status.condition ? ` (${status.condition})` : ''}, kubelet v${status.kubeletVersion || '?'}`;
          if (ctx.clock.now() + READY_POLL_MS > deadline) break;
          await ctx.clock.sleep(READY_POLL_MS);
        }
        throw new Error(
          `${job.name} was not Ready with kubelet v${target.version} within ${Math.round(readyTimeoutMs / 1000)} s (last seen: ${last}); it stays cordoned`,
        );
      },
    },
  ],
};
