// Hostile inputs and large inventories through the bundle, as the runner runs it, against one simulated cluster
// (1 control plane, 1 worker, 5,000 API-only workers):
// - a representative part of the hostile-input corpus (test/hostile/corpus.ts, the cases marked e2e) fails with
//   its expected first error line, and the nodes' command logs show that nothing reached them (issue #10 item 8
//   and the corpus);
// - an inline inventory over 128 KiB cannot even start the step (E2BIG, Linux's limit on one environment string),
//   and a 5,000-node inventory file in the workspace is read, validated and matched against the cluster's 5,000
//   Node objects (issue #10 item 9). Plan cannot probe the API-only workers (nothing may connect to them), so the
//   file ends with one entry the cluster does not have: the run stops at that check, before any probe.
import { mkdirSync, readFileSync, realpathSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { startCluster, type SimCluster } from '../../sim/index.ts';
import { MAX_INLINE_INVENTORY_BYTES } from '../../src/core/settings.ts';
import { INPUT_CASES, INVENTORY_CASES } from '../hostile/corpus.ts';
import { buildBundle, runAction } from '../support/action-runner.ts';
import { upgradeInputs } from './upgrade-helpers.ts';

const API_ONLY = 5000;
let bundle: string;
let cluster: SimCluster;
let workspace: string;

/** Bytes in each SSH node's command log: what a run sent to the nodes shows up there. */
function logSizes(): Record<string, number> {
  return Object.fromEntries(
    ['cp-1', 'worker-1'].map((node) => {
      const file = join(cluster.dir, 'nodes', node, 'commands.log');
      return [node, statSync(file, { throwIfNoEntry: false })?.size ?? 0];
    }),
  );
}

/** The error the runner shows: `::error::` with its message, newlines as %0A. */
const errorLine = (stdout: string) => stdout.split('\n').find((l) => l.startsWith('::error::')) ?? '';

beforeAll(async () => {
  [bundle, cluster] = await Promise.all([
    buildBundle(),
    startCluster({ controlPlanes: 1, workers: 1, version: '1.30.5', workload: 'none', apiOnlyWorkers: API_ONLY }),
  ]);
  workspace = join(cluster.dir, 'workspace');
  mkdirSync(workspace);
  workspace = realpathSync(workspace);
  symlinkSync('/etc/passwd', join(workspace, 'symlink-out.yaml'));
}, 300_000);
afterAll(async () => {
  await cluster?.stop();
});

describe('hostile inputs through the bundle', () => {
  const cases = [
    ...INPUT_CASES.filter((c) => c.e2e && 'first' in c).map((c) => ({
      name: `${c.input} = ${JSON.stringify(c.value)}`,
      inputs: { [c.input]: c.value },
      first: (c as { first: string }).first,
    })),
    ...INVENTORY_CASES.filter((c) => c.e2e).map((c) => ({ name: `inventory ${c.field}`, inputs: { inventory: c.yaml }, first: c.first })),
  ];

  it(`fail before any node is contacted, each with its first error line (${cases.length} cases)`, async () => {
    expect(cases.length).toBeGreaterThanOrEqual(8);
    const before = logSizes();
    for (const c of cases) {
      const result = await runAction({ ...upgradeInputs(cluster), ...c.inputs }, { bundle, workspace });
      const shown = errorLine(result.stdout);
      expect({ case: c.name, exitCode: result.exitCode }).toEqual({ case: c.name, exitCode: 1 });
      expect(shown, c.name).toContain(`::error::Invalid input (no node was contacted):%0A${c.first.replaceAll('${WS}', workspace)}`);
      expect(result.outputs, c.name).not.toHaveProperty('outcome');
    }
    expect(logSizes()).toEqual(before);
  }, 300_000);
});

describe('inventory size', () => {
  /** The SSH nodes as the simulator lists them, then the API-only workers, one line each. */
  function inventoryLines(count: number): string[] {
    const sim = YAML.parse(readFileSync(cluster.inventoryPath, 'utf8')) as { nodes: { name: string; address: string; role: string }[] };
    const lines = sim.nodes.map((n) => `  - { name: ${n.name}, address: ${n.address}, role: ${n.role} }`);
    for (let i = 1; i <= count; i++) {
      const name = `api-worker-${String(i).padStart(5, '0')}`;
      lines.push(`  - { name: ${name}, address: 127.250.${i >> 8}.${i & 255}, role: worker }`);
    }
    return lines;
  }

  it('an inline inventory over 128 KiB stops the step from starting (E2BIG)', async () => {
    const inline = `nodes:\n${inventoryLines(2600).join('\n')}\n`;
    expect(Buffer.byteLength(inline)).toBeGreaterThan(MAX_INLINE_INVENTORY_BYTES);
    await expect(runAction({ ...upgradeInputs(cluster), command: 'plan', inventory: inline }, { bundle, workspace })).rejects.toMatchObject(
      {
        code: 'E2BIG',
      },
    );
  });

  it('a 5,000-node inventory file is read, validated and matched against 5,000 Node objects', async () => {
    const lines = [...inventoryLines(API_ONLY), '  - { name: api-worker-05001, address: 127.250.19.137, role: worker }'];
    const text = `cluster: big\nnodes:\n${lines.join('\n')}\n`;
    writeFileSync(join(workspace, 'inventory.yaml'), text);
    expect(Buffer.byteLength(text)).toBeGreaterThan(MAX_INLINE_INVENTORY_BYTES);
    const before = logSizes();
    const result = await runAction({ ...upgradeInputs(cluster), command: 'plan', inventory: 'inventory.yaml' }, { bundle, workspace });
    expect(result.exitCode).toBe(1);
    const shown = errorLine(result.stdout);
    // every line before the last matched a Node (role included); only the extra one is named
    expect(shown).toContain(`inventory: nodes[${lines.length - 1}].name: node "api-worker-05001" does not exist in the cluster`);
    expect(shown.split('%0A').filter((l) => l.startsWith('inventory: '))).toHaveLength(1);
    expect(logSizes()).toEqual(before);
  }, 120_000);
});
