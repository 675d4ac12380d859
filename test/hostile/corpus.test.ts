// The hostile-input corpus (test/hostile/corpus.ts) through the pure parsing the Action runs before it contacts
// anything: parseSettings, then checkInputs (kubeconfig, private key, inventory). Each case must fail with exactly
// its expected first error line; the inert free-text inputs must be accepted as data only. Coverage: every
// action.yml input and every inventory field has a case.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import YAML from 'yaml';
import { checkInputs } from '../../src/commands/prepare.ts';
import { InputError } from '../../src/core/errors.ts';
import { inventoryNodeSchema, inventorySchema } from '../../src/core/inventory-schema.ts';
import { parseSettings, type Settings } from '../../src/core/settings.ts';
import { parseKnownHosts, entriesFor } from '../../src/adapters/transport/known-hosts.ts';
import { INPUT_CASES, INVENTORY_CASES } from './corpus.ts';

const repoRoot = join(import.meta.dirname, '..', '..');
let dir: string;
let workspace: string;
let base: Record<string, string>;

const KUBECONFIG = [
  'apiVersion: v1',
  'kind: Config',
  'clusters: [{ name: c, cluster: { server: "https://127.0.0.1:1", insecure-skip-tls-verify: true } }]',
  'users: [{ name: u, user: { token: t } }]',
  'contexts: [{ name: x, context: { cluster: c, user: u } }]',
  'current-context: x',
].join('\n');

beforeAll(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'kua-corpus-')));
  workspace = join(dir, 'ws');
  mkdirSync(join(dir, 'outside'), { recursive: true });
  mkdirSync(workspace);
  symlinkSync('/etc/passwd', join(workspace, 'symlink-out.yaml'));
  symlinkSync(join(dir, 'outside'), join(workspace, 'symlink-out'));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'id')]);
  base = {
    command: 'plan',
    'target-version': '1.31',
    kubeconfig: KUBECONFIG,
    'ssh-private-key': readFileSync(join(dir, 'id'), 'utf8'),
    'ssh-known-hosts': '10.0.0.10 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA',
    inventory: 'nodes:\n  - { name: cp-1, address: 10.0.0.10, role: control-plane }\n',
  };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The first line of the error the Action reports before contacting anything, or the settings when it accepts. */
function outcome(inputs: Record<string, string>): { first: string } | { settings: Settings } {
  const all = { ...base, ...inputs };
  try {
    const settings = parseSettings((name) => all[name] ?? '', { workspace });
    checkInputs(settings);
    return { settings };
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    // paths of this test's temporary workspace appear as ${WS} and ${DIR} in the corpus
    return { first: error.message.split('\n')[0]!.replaceAll(workspace, '${WS}').replaceAll(dir, '${DIR}') };
  }
}

describe('every action.yml input has a hostile case', () => {
  test('coverage', () => {
    const action = YAML.parse(readFileSync(join(repoRoot, 'action.yml'), 'utf8')) as { inputs: Record<string, unknown> };
    const covered = new Set(INPUT_CASES.map((c) => c.input));
    expect(Object.keys(action.inputs).filter((name) => !covered.has(name))).toEqual([]);
  });

  test.each(INPUT_CASES.filter((c) => 'first' in c).map((c) => [c.input, c.value, (c as { first: string }).first]))(
    '%s = %j',
    (input, value, first) => {
      if (process.env.CORPUS_PRINT) console.log(JSON.stringify({ actual: outcome({ [input]: value }) }));
      if (process.env.CORPUS_PRINT) console.log(JSON.stringify({ actual: outcome({ [input]: value }) }));
      expect(outcome({ [input]: value })).toEqual({ first });
    },
  );

  test('inert free text is accepted as data, and only where it can do no harm', () => {
    for (const c of INPUT_CASES) {
      if (!('inert' in c)) continue;
      const result = outcome({ [c.input]: c.value });
      expect(result, c.input).toHaveProperty('settings');
      const settings = (result as { settings: Settings }).settings;
      switch (c.inert) {
        case 'masked-secret':
          // a token: sent only as an HTTP header to the GitHub API, masked first (src/main.ts setSecret)
          expect(settings.githubToken).toBe(c.value);
          expect(readFileSync(join(repoRoot, 'src', 'main.ts'), 'utf8')).toMatch(/SECRET_INPUTS = \[[^\]]*'github-token'/);
          break;
        case 'known-hosts-lines':
          // lines that are not entries are skipped; a host pattern that is not the node's name matches nothing
          expect(entriesFor(parseKnownHosts(settings.ssh.knownHosts ?? ''), '10.0.0.10', 22)).toEqual([]);
          break;
        case 'compared-to-cluster-name':
          // only compared with the cluster's name before a rollback; never sent anywhere
          expect(settings.backup.confirmRollback).toBe(c.value);
          break;
      }
    }
  });
});

describe('every inventory field has a hostile case', () => {
  test('coverage', () => {
    const fields = [
      ...Object.keys(inventorySchema.shape).filter((k) => k !== 'nodes' && k !== '$schema' && k !== 'defaults'),
      ...Object.keys(inventorySchema.shape.defaults.unwrap().shape).map((k) => `defaults.${k}`),
      ...Object.keys(inventoryNodeSchema.shape).map((k) => `nodes[].${k}`),
    ];
    const covered = new Set(INVENTORY_CASES.map((c) => c.field.replace(/ \(.*\)$/, '')));
    expect(fields.filter((f) => !covered.has(f))).toEqual([]);
  });

  test.each(INVENTORY_CASES.map((c) => [c.field, c.yaml, c.first]))('%s: %j', (_field, yaml, first) => {
    if (process.env.CORPUS_PRINT) console.log(JSON.stringify({ actual: outcome({ inventory: yaml }) }));
    if (process.env.CORPUS_PRINT) console.log(JSON.stringify({ actual: outcome({ inventory: yaml }) }));
    expect(outcome({ inventory: yaml })).toEqual({ first });
  });
});
