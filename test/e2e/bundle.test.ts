// The bundle is what the runner executes: it must match the sources and action.yml must be valid metadata.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';

const root = join(import.meta.dirname, '..', '..');
const validator = join(root, 'node_modules', '.bin', 'action-validator');

function validate(file: string): { ok: boolean; output: string } {
  try {
    return { ok: true, output: execFileSync(validator, [file], { encoding: 'utf8', stdio: 'pipe' }) };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('dist/', () => {
  it('matches a fresh build of the sources', () => {
    const out = mkdtempSync(join(tmpdir(), 'kua-dist-'));
    execFileSync(process.execPath, ['scripts/build.ts', '--outdir', out], { cwd: root, stdio: 'pipe' });
    for (const file of readdirSync(join(root, 'dist'))) {
      const committed = readFileSync(join(root, 'dist', file), 'utf8');
      const rebuilt = readFileSync(join(out, file), 'utf8');
      expect(rebuilt === committed, `dist/${file} differs from a fresh build: run npm run build and commit dist/`).toBe(true);
    }
    expect(readdirSync(out).sort()).toEqual(readdirSync(join(root, 'dist')).sort());
  });
});

describe('action metadata and workflows', () => {
  it('action.yml runs on node24, main and post from dist/index.js', () => {
    const action = YAML.parse(readFileSync(join(root, 'action.yml'), 'utf8'));
    expect(action.runs).toEqual({ using: 'node24', main: 'dist/index.js', post: 'dist/index.js' });
  });

  it('action.yml passes action-validator', () => {
    // action-validator 0.6's schema predates node24; validate with that one value swapped, the rest as written.
    const text = readFileSync(join(root, 'action.yml'), 'utf8').replace(/using: node24/, 'using: node20');
    const dir = mkdtempSync(join(tmpdir(), 'kua-action-'));
    writeFileSync(join(dir, 'action.yml'), text);
    const result = validate(join(dir, 'action.yml'));
    expect(result.ok, result.output).toBe(true);
  });

  it('every input and output is documented', () => {
    const action = YAML.parse(readFileSync(join(root, 'action.yml'), 'utf8'));
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    for (const name of [...Object.keys(action.inputs ?? {}), ...Object.keys(action.outputs ?? {})]) {
      expect(readme, `README.md does not mention \`${name}\``).toContain(`\`${name}\``);
    }
  });

  it.each(readdirSync(join(root, '.github', 'workflows')))('workflow %s passes action-validator', (file) => {
    const result = validate(join(root, '.github', 'workflows', file));
    expect(result.ok, result.output).toBe(true);
  });
});

describe('README.md', () => {
  it('has the inputs and outputs tables of action.yml', async () => {
    const { updateReadme } = await import('../../scripts/gen-readme.ts');
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const current = updateReadme(readme, readFileSync(join(root, 'action.yml'), 'utf8'));
    expect(current === readme, 'README.md tables are out of date: run node scripts/gen-readme.ts').toBe(true);
  });

  it('example workflows pass action-validator', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const workflows = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((y) => /^jobs:/m.test(y));
    expect(workflows.length).toBeGreaterThanOrEqual(3);
    const dir = mkdtempSync(join(tmpdir(), 'kua-readme-'));
    workflows.forEach((text, i) => {
      const file = join(dir, `example-${i}.yml`);
      writeFileSync(file, text);
      const result = validate(file);
      expect(result.ok, `README example workflow ${i + 1}: ${result.output}`).toBe(true);
    });
  });
});
