// FaultSpec[] (sim/README.md "Faults"): parsed from YAML or JSON, validated, written to DIR/faults.json.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const nodeName = z.string().min(1, 'node must name a node or be "*"');
const times = z.number().int().positive().optional();

const faultSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('command-fails'),
    node: nodeName,
    match: z.string().min(1),
    exitCode: z.number().int().min(1).max(255).optional(),
    stderr: z.string().optional(),
    times,
  }),
  z.strictObject({ type: z.literal('ssh-drop'), node: nodeName, match: z.string().min(1), times }),
  z.strictObject({ type: z.literal('never-ready'), node: nodeName }),
  z.strictObject({ type: z.literal('pdb-blocks'), namespace: z.string().min(1), name: z.string().min(1) }),
  z.strictObject({
    type: z.literal('api-unavailable'),
    startAfterMs: z.number().int().min(0).optional(),
    durationMs: z.number().int().positive(),
  }),
  z.strictObject({
    type: z.literal('api-error'),
    status: z.number().int().min(400).max(599),
    method: z.string().min(1).optional(),
    path: z.string().min(1).optional(),
    body: z.string().min(1).optional(),
    message: z.string().optional(),
    retryAfterSeconds: z.number().int().min(0).optional(),
    startAfterMs: z.number().int().min(0).optional(),
    durationMs: z.number().int().positive().optional(),
    times,
  }),
  z.strictObject({
    type: z.literal('api-reset'),
    method: z.string().min(1).optional(),
    path: z.string().min(1).optional(),
    startAfterMs: z.number().int().min(0).optional(),
    durationMs: z.number().int().positive().optional(),
    times,
  }),
]);

export const faultListSchema = z.array(faultSchema);
export type FaultSpec = z.infer<typeof faultSchema>;

/** Validates faults, naming the entry and field that is wrong and the node names that exist. */
export function validateFaults(value: unknown, knownNodes?: string[], source = 'faults'): FaultSpec[] {
  const result = faultListSchema.safeParse(value);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `  at [${issue.path.join('].')}]: ${issue.message}`);
    throw new Error(
      `${source} is not a valid FaultSpec[]:\n${problems.join('\n')}\n` +
        'Each entry needs a "type" of command-fails, ssh-drop, never-ready, pdb-blocks, api-unavailable, api-error or api-reset (sim/README.md).',
    );
  }
  if (knownNodes) {
    for (const [index, fault] of result.data.entries()) {
      if ('node' in fault && fault.node !== '*' && !knownNodes.includes(fault.node)) {
        throw new Error(
          `${source}[${index}]: node "${fault.node}" is not an SSH node of this cluster ` + `(nodes: ${knownNodes.join(', ')}, or "*")`,
        );
      }
    }
  }
  return result.data;
}

/** Reads a FaultSpec[] file in YAML or JSON (JSON is YAML). */
export function readFaultsFile(file: string, knownNodes?: string[]): FaultSpec[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the faults file ${file}: ${(err as Error).message}`);
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (err) {
    throw new Error(`the faults file ${file} is neither YAML nor JSON: ${(err as Error).message}`);
  }
  return validateFaults(value ?? [], knownNodes, file);
}

/** Replaces DIR/faults.json atomically (readers re-read it on every check) and resets the `times` counters. */
export function writeFaults(dir: string, faults: FaultSpec[]): void {
  const target = join(dir, 'faults.json');
  const temporary = `${target}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(faults, null, 2)}\n`);
  renameSync(temporary, target);
  // counters belong to the faults they counted; new faults start from zero
  rmSync(join(dir, 'faults-state.json'), { force: true });
}
