// src/core is the pure part: plans, settings, versions, inventory. It must not reach the adapters, the backup
// adapter, the stages that run an upgrade, the commands, the reports, the Actions toolkit or the Kubernetes
// client, so it can be read and tested without any of them. This reads the import lines of every file there.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';

const SRC = resolve(import.meta.dirname, '..', '..', 'src');
const CORE = join(SRC, 'core');

/** Every module specifier a file names: static imports and re-exports (also across lines), side-effect imports, import(), require(). */
function moduleSpecifiers(text: string): string[] {
  const patterns = [
    /^\s*(?:import|export)\b[^;()='"`]*?\bfrom\s*['"]([^'"]+)['"]/gm,
    /^\s*import\s*['"]([^'"]+)['"]/gm,
    /\bimport\s*\(\s*['"]([^'"]+)['"]/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]/g,
  ];
  return patterns.flatMap((re) => [...text.matchAll(re)].map((m) => m[1]!));
}

const FORBIDDEN_PACKAGES = [/^@actions\//, /^@kubernetes\/client-node(\/|$)/];

/** Why a specifier in a src/core file is not allowed there, or undefined. */
function problem(file: string, specifier: string): string | undefined {
  if (specifier.startsWith('.')) {
    const target = resolve(dirname(file), specifier);
    const inCore = relative(CORE, target);
    if (inCore.startsWith('..')) return `imports ${specifier} (${relative(SRC, target)}), outside src/core`;
    return undefined;
  }
  if (FORBIDDEN_PACKAGES.some((re) => re.test(specifier))) return `imports ${specifier}`;
  return undefined;
}

function coreFiles(dir = CORE): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? coreFiles(join(dir, e.name)) : /\.[cm]?[jt]s$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

describe('src/core is pure', () => {
  test('the import reader finds every form of import', () => {
    const sample = [
      "import { a } from '../backup/inputs.ts';",
      "import type { B } from '../adapters/transport/node-shell.ts';",
      'import {\n  c,\n  type D,\n} from "../upgrade/runner.ts";',
      "export { e } from '../commands/deps.ts';",
      "export * from '../report/markdown.ts';",
      "import '@actions/core';",
      "const k = await import('@kubernetes/client-node');",
      "const x = 'from nothing'; // not an import",
    ].join('\n');
    expect(moduleSpecifiers(sample)).toEqual([
      '../backup/inputs.ts',
      '../adapters/transport/node-shell.ts',
      '../upgrade/runner.ts',
      '../commands/deps.ts',
      '../report/markdown.ts',
      '@actions/core',
      '@kubernetes/client-node',
    ]);
    const file = join(CORE, 'settings.ts');
    for (const s of moduleSpecifiers(sample)) expect(problem(file, s)).toBeDefined();
    expect(problem(file, './errors.ts')).toBeUndefined();
    expect(problem(file, 'zod')).toBeUndefined();
    expect(problem(file, 'node:fs')).toBeUndefined();
  });

  test('no file in src/core imports from src/backup, src/adapters, src/upgrade, src/commands, src/report, @actions/* or the Kubernetes client', () => {
    const files = coreFiles();
    expect(files.length).toBeGreaterThan(10);
    const found = files.flatMap((file) =>
      moduleSpecifiers(readFileSync(file, 'utf8')).flatMap((s) => {
        const p = problem(file, s);
        return p ? [`${relative(SRC, file)} ${p}`] : [];
      }),
    );
    expect(found).toEqual([]);
  });
});
