// How big an inventory may be (issue #10 item 9). The runner passes every input as one environment string
// (INPUT_INVENTORY=…), and Linux refuses to start a process whose single environment string exceeds
// MAX_ARG_STRLEN (32 pages = 128 KiB): the step then fails with E2BIG before the Action runs. So inline YAML is
// bounded by that, and the Action warns well before it; a file in the workspace may be up to 10 MiB.
import { spawnSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { InputError } from '../../src/core/errors.ts';
import { MAX_INLINE_INVENTORY_BYTES, parseSettings } from '../../src/core/settings.ts';

const read = (inputs: Record<string, string>) => (name: string) => inputs[name] ?? '';

/** An inventory in the one-line-per-node format of the README, `bytes` long or just under. */
function inventoryOf(bytes: number): string {
  if (!Number.isFinite(bytes)) throw new Error(`no size: ${bytes}`);
  const lines = ['cluster: prod\nnodes:\n'];
  let size = Buffer.byteLength(lines[0]!);
  for (let i = 1; ; i++) {
    const line = `  - { name: worker-${String(i).padStart(4, '0')}, address: 10.0.${(i >> 8) & 255}.${i & 255}, role: worker }\n`;
    if (size + line.length > bytes) return lines.join('');
    lines.push(line);
    size += line.length;
  }
}

describe('inline inventory size', () => {
  test('Linux starts a process with INPUT_INVENTORY of MAX_INLINE_INVENTORY_BYTES, and refuses one byte more (E2BIG)', () => {
    const start = (value: string) =>
      spawnSync(process.execPath, ['-e', ''], { env: { PATH: process.env.PATH ?? '', INPUT_INVENTORY: value } });
    expect(start('x'.repeat(MAX_INLINE_INVENTORY_BYTES)).error).toBeUndefined();
    expect(start('x'.repeat(MAX_INLINE_INVENTORY_BYTES + 1)).error).toMatchObject({ code: 'E2BIG' });
  });

  test('inline YAML above the limit is refused, naming the file path as the fix', () => {
    const text = `${inventoryOf(MAX_INLINE_INVENTORY_BYTES + 5000)}`;
    expect(Buffer.byteLength(text)).toBeGreaterThan(MAX_INLINE_INVENTORY_BYTES);
    let error: unknown;
    try {
      parseSettings(read({ 'target-version': '1.31', inventory: text }));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).problems).toMatchObject([
      {
        input: 'inventory',
        problem: /inline YAML is \d+ bytes, more than the 131055 one input can carry/,
        fix: /path of a file in the workspace/,
      },
    ]);
  });

  test('inline YAML above 100 KiB works but warns that it is close to the limit', () => {
    const text = inventoryOf(110 * 1024).trim();
    const s = parseSettings(read({ 'target-version': '1.31', inventory: text }));
    expect(s.inventory?.source).toBe('input');
    expect(s.warnings).toEqual([expect.stringMatching(/^inventory: the inline YAML is \d+ bytes.*E2BIG.*path of a file in the workspace/)]);
    expect(parseSettings(read({ 'target-version': '1.31', inventory: inventoryOf(90 * 1024).trim() })).warnings).toEqual([]);
  });

  test('a file may hold 5,000 nodes and more', () => {
    const text = inventoryOf(400 * 1024);
    const s = parseSettings(read({ 'target-version': '1.31', inventory: 'inventory.yaml' }), { workspace: '/ws', readFile: () => text });
    expect(s.inventory?.text.split('\n').filter((l) => l.startsWith('  - ')).length).toBeGreaterThan(5000);
  });
});
