// `npm run faults`: the whole fault matrix (test/faults/matrix.ts), each scenario on its own simulated 2 + 1 cluster
// through the built bundle: the fault, the post step, a plain re-run. Results accumulate in a JSON file (so the
// matrix can run in pieces) and are rendered as a Markdown table next to it.
//
//   npm run faults -- [--only REGEX] [--limit N] [--minutes M] [--parallel N] [--results FILE] [--list] [--rerun-failed]
//
// --minutes: start no scenario after M minutes (a running one finishes), to hold a shared simulator lock briefly.
// --only: scenario ids (kind@stage@role) matching REGEX; scenarios already in the results file are skipped unless
// --rerun-failed (failed/invalid ones) or --fresh; --list prints the matrix (and the skipped kinds) and exits.
// Run it under the simulator lock when others share the machine: flock /tmp/sim.lock npm run faults -- …
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { buildBundle } from '../test/support/action-runner.ts';
import { faultMatrix } from '../test/faults/matrix.ts';
import { CHECKS, runScenario, type ScenarioResult } from '../test/faults/scenario.ts';

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    limit: { type: 'string' },
    minutes: { type: 'string' },
    parallel: { type: 'string', default: '1' },
    results: { type: 'string', default: 'docs/fault-matrix.json' },
    list: { type: 'boolean', default: false },
    fresh: { type: 'boolean', default: false },
    'rerun-failed': { type: 'boolean', default: false },
  },
});

const matrix = faultMatrix();
if (values.list) {
  for (const s of matrix.scenarios) console.log(`${s.id}\t${s.command ?? ''}`);
  console.log(`\n${matrix.scenarios.length} scenarios; skipped by rule:`);
  for (const s of matrix.skipped) console.log(`  ${s.kind}@${s.stage}@${s.role}: ${s.reason}`);
  process.exit(0);
}

const resultsFile = values.results;
const mdFile = resultsFile.replace(/\.json$/, '') + '.md';
const results: Record<string, ScenarioResult> =
  !values.fresh && existsSync(resultsFile) ? (JSON.parse(readFileSync(resultsFile, 'utf8')) as Record<string, ScenarioResult>) : {};
const only = values.only ? new RegExp(values.only) : undefined;
let todo = matrix.scenarios.filter(
  (s) => (!only || only.test(s.id)) && (!results[s.id] || (values['rerun-failed'] && results[s.id]!.verdict !== 'survived')),
);
if (values.limit) todo = todo.slice(0, Number(values.limit));

function render(): string {
  const rows = matrix.scenarios.map((s) => {
    const r = results[s.id];
    if (!r) return `| ${s.id} | not run | | ${CHECKS.map(() => '').join(' | ')} |`;
    const cell = (c: string) => (c === 'pass' ? '✅' : c.startsWith('n/a') ? '–' : `❌ ${c.slice('fail: '.length).replace(/\|/g, '\\|')}`);
    const verdict = r.verdict === 'survived' ? '✅ survived' : r.verdict === 'invalid' ? `⚠️ ${r.note ?? 'invalid'}` : '❌ failed';
    return `| ${s.id} | ${verdict} | ${r.firstRun.replace(/\|/g, '\\|')} | ${CHECKS.map((c) => cell(r.checks[c])).join(' | ')} |`;
  });
  const ran = Object.values(results).filter((r) => matrix.scenarios.some((s) => s.id === r.id));
  const survived = ran.filter((r) => r.verdict === 'survived').length;
  const invalid = ran.filter((r) => r.verdict === 'invalid').length;
  return [
    `# Fault matrix results`,
    '',
    `${matrix.scenarios.length} scenarios (${matrix.skipped.length} kind × stage × role combinations skipped by rule); ${ran.length} run, ${survived} survived, ${ran.length - survived - invalid} failed, ${invalid} invalid (the fault never fired).`,
    '',
    `| scenario (kind@stage@role) | verdict | first run | ${CHECKS.join(' | ')} |`,
    `| --- | --- | --- | ${CHECKS.map(() => '---').join(' | ')} |`,
    ...rows,
    '',
    '## Skipped by rule',
    '',
    ...matrix.skipped.map((s) => `- ${s.kind}@${s.stage}@${s.role}: ${s.reason}`),
    '',
  ].join('\n');
}

function save(): void {
  writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(mdFile, render());
}

const bundle = await buildBundle();
console.error(`${todo.length} scenario(s) to run, ${Number(values.parallel)} at a time; results in ${resultsFile} and ${mdFile}`);
let next = 0;
const stopAt = values.minutes ? Date.now() + Number(values.minutes) * 60_000 : Number.POSITIVE_INFINITY;
async function worker(): Promise<void> {
  while (next < todo.length && Date.now() < stopAt) {
    const scenario = todo[next++]!;
    const t = Date.now();
    try {
      const { jobs: _jobs, ...result } = await runScenario(scenario, { bundle });
      results[scenario.id] = result;
    } catch (error) {
      results[scenario.id] = {
        id: scenario.id,
        verdict: 'invalid',
        firstRun: 'harness error',
        checks: Object.fromEntries(CHECKS.map((c) => [c, 'n/a (harness error)'])) as ScenarioResult['checks'],
        ms: { cluster: 0, run: 0, rerun: 0, total: Date.now() - t },
        note: `harness error: ${(error as Error).message.slice(0, 200)}`,
      };
    }
    const r = results[scenario.id]!;
    const failed = Object.entries(r.checks).filter(([, v]) => v.startsWith('fail'));
    console.error(
      `${r.verdict.padEnd(8)} ${scenario.id} (${Math.round(r.ms.total / 1000)} s: cluster ${Math.round(r.ms.cluster / 1000)} s, run ${Math.round(r.ms.run / 1000)} s, re-run ${Math.round(r.ms.rerun / 1000)} s) ${r.firstRun}${failed.length ? `\n    ${failed.map(([k, v]) => `${k}: ${v}`).join('\n    ')}` : ''}${r.note ? `\n    ${r.note}` : ''}`,
    );
    save();
  }
}
await Promise.all(Array.from({ length: Math.max(1, Number(values.parallel)) }, worker));
save();
if (next < todo.length)
  console.error(`stopped after ${values.minutes} minutes: ${todo.length - next} scenario(s) not started (run again to go on)`);
