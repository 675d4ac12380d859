// Regenerates the inputs and outputs tables in README.md from action.yml (between the marker comments).
// `--check` exits 1 when README.md is out of date instead of writing it.
import { readFileSync, writeFileSync } from 'node:fs';
import YAML from 'yaml';

interface ActionInput {
  description?: string;
  default?: string;
  required?: boolean;
}

const cell = (text: string) => text.replace(/\s+/g, ' ').replace(/\|/g, '\\|').trim();

export function renderTables(actionYaml: string): { inputs: string; outputs: string } {
  const action = YAML.parse(actionYaml) as { inputs?: Record<string, ActionInput>; outputs?: Record<string, { description?: string }> };
  const inputs = ['| input | default | description |', '| --- | --- | --- |'];
  for (const [name, spec] of Object.entries(action.inputs ?? {})) {
    const def = spec.default === undefined || spec.default === '' ? '' : `\`${cell(String(spec.default))}\``;
    inputs.push(`| \`${name}\` | ${def} | ${cell(spec.description ?? '')} |`);
  }
  const outputs = ['| output | description |', '| --- | --- |'];
  for (const [name, spec] of Object.entries(action.outputs ?? {})) {
    outputs.push(`| \`${name}\` | ${cell(spec.description ?? '')} |`);
  }
  return { inputs: inputs.join('\n'), outputs: outputs.join('\n') };
}

export function updateReadme(readme: string, actionYaml: string): string {
  const tables = renderTables(actionYaml);
  let text = readme;
  for (const [key, table] of Object.entries(tables)) {
    const start = `<!-- ${key}:start (generated from action.yml by scripts/gen-readme.ts) -->`;
    const end = `<!-- ${key}:end -->`;
    const from = text.indexOf(start);
    const to = text.indexOf(end);
    if (from < 0 || to < from) throw new Error(`README.md lacks the ${key} markers`);
    text = `${text.slice(0, from + start.length)}\n${table}\n${text.slice(to)}`;
  }
  return text;
}

if (import.meta.main) {
  const readme = readFileSync('README.md', 'utf8');
  const updated = updateReadme(readme, readFileSync('action.yml', 'utf8'));
  if (process.argv.includes('--check')) {
    if (updated !== readme) {
      console.error('README.md inputs/outputs tables are out of date: run node scripts/gen-readme.ts');
      process.exit(1);
    }
  } else {
    writeFileSync('README.md', updated);
  }
}
