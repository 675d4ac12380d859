// Inputs that reach nodes as URLs or paths are validated as URLs and paths (issue #10 item 8), and every path
// given relative to the workspace is contained after its symlinks are resolved, not only lexically.
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { InputError } from '../../src/core/errors.ts';
import { parseSettings, type SettingsEnv } from '../../src/core/settings.ts';

const read = (inputs: Record<string, string>) => (name: string) => inputs[name] ?? '';

function problemsOf(inputs: Record<string, string>, env: SettingsEnv = {}) {
  try {
    parseSettings(read({ 'target-version': '1.31', ...inputs }), env);
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as InputError).problems;
  }
  return [];
}

const ETCD = { 'etcd-ca': '/etc/etcd/ca.crt', 'etcd-cert': '/etc/etcd/client.crt', 'etcd-key': '/etc/etcd/client.key' };

describe('etcd-endpoints are https URLs of a host and a port', () => {
  test.each(['https://10.0.0.5:2379', 'https://etcd-1.example.com:2379', 'https://[fd00::5]:2379', 'https://10.0.0.5:2379/'])(
    'accepts %s',
    (url) => {
      expect(problemsOf({ ...ETCD, 'etcd-endpoints': url })).toEqual([]);
    },
  );

  test.each([
    ['https://$(id):2379', /host/],
    ['https://`id`:2379', /host/],
    ['https://10.0.0.5;id:2379', /host|port/],
    ['http://10.0.0.5:2379', /https/],
    ['unix:///run/etcd.sock', /https/],
    ['https://user:pw@10.0.0.5:2379', /user/],
    ['https://10.0.0.5:2379/v3?x=1', /path|query/],
    ['https://10.0.0.5:2379/$(id)', /path/],
    ['https://10.0.0.5', /port/],
    ['https://10.0.0.5:0', /port/],
    ['https://10.0.0.5:99999', /port/],
    ['https://-oProxy:2379', /host/],
    ['https://10.0.0.5:2379#frag', /fragment|path|query/],
  ])('refuses %s', (url, message) => {
    const problems = problemsOf({ ...ETCD, 'etcd-endpoints': url });
    expect(problems).toHaveLength(1);
    expect(problems[0]!.input).toBe('etcd-endpoints');
    expect(problems[0]!.problem).toMatch(message);
    expect(problems[0]!.fix).toMatch(/https:\/\/10\.0\.0\.5:2379/);
  });
});

describe('etcd-ca / etcd-cert / etcd-key are absolute paths of safe characters', () => {
  test.each([
    '/etc/etcd/client.key$(id)',
    '/etc/etcd/`id`.key',
    '/etc/etcd/client key',
    '/etc/etcd/../../root/.ssh/id_rsa',
    '/etc/etcd/./client.key',
    '/etc/etcd/client.key;id',
    '/etc/etcd/kéy',
    '//etc/etcd/client.key',
    `/${'a'.repeat(5000)}`,
  ])('refuses etcd-key %j', (path) => {
    const problems = problemsOf({ ...ETCD, 'etcd-endpoints': 'https://10.0.0.5:2379', 'etcd-key': path });
    expect(problems).toHaveLength(1);
    expect(problems[0]!.input).toBe('etcd-key');
    expect(problems[0]!.problem).toMatch(/is not an absolute path of letters, digits/);
  });

  test('accepts the paths kubeadm documents', () => {
    expect(
      problemsOf({
        'etcd-endpoints': 'https://10.0.0.5:2379',
        'etcd-ca': '/etc/kubernetes/pki/etcd/ca.crt',
        'etcd-cert': '/etc/kubernetes/pki/apiserver-etcd-client.crt',
        'etcd-key': '/etc/kubernetes/pki/apiserver-etcd-client_v2.key',
      }),
    ).toEqual([]);
  });
});

describe('workspace paths are contained after resolving symlinks', () => {
  let root: string;
  let workspace: string;
  let outside: string;
  beforeAll(() => {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'ws-paths-')));
    workspace = join(root, 'ws');
    outside = join(root, 'outside');
    mkdirSync(join(workspace, '.github'), { recursive: true });
    mkdirSync(join(outside, 'restore'), { recursive: true });
    writeFileSync(join(outside, 'secret.yaml'), 'nodes:\n  - { name: cp-1, address: 10.0.0.1, role: control-plane }\n');
    writeFileSync(join(workspace, '.github', 'inventory.yaml'), 'nodes:\n  - { name: cp-1, address: 10.0.0.1, role: control-plane }\n');
    symlinkSync(join(outside, 'secret.yaml'), join(workspace, 'inventory.yaml'));
    symlinkSync(outside, join(workspace, 'linked'));
    symlinkSync(join(workspace, '.github'), join(workspace, 'github-link'));
    mkdirSync(join(workspace, 'restore'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  test('an inventory file symlinked out of the workspace is refused', () => {
    const problems = problemsOf({ inventory: 'inventory.yaml' }, { workspace });
    expect(problems).toMatchObject([{ input: 'inventory', problem: /outside the workspace .*symlink/ }]);
  });

  test('an inventory file under a symlinked folder that leaves the workspace is refused', () => {
    const problems = problemsOf({ inventory: 'linked/secret.yaml' }, { workspace });
    expect(problems).toMatchObject([{ input: 'inventory', problem: /outside the workspace/ }]);
  });

  test('a symlink that stays inside the workspace is followed', () => {
    const s = parseSettings(read({ 'target-version': '1.31', inventory: 'github-link/inventory.yaml' }), { workspace });
    expect(s.inventory?.source).toBe('.github/inventory.yaml');
  });

  test('a relative rollback-source is contained in the workspace, also through symlinks', () => {
    const rollback = { command: 'rollback', 'confirm-rollback': 'prod' };
    expect(problemsOf({ ...rollback, 'rollback-source': '../outside/restore' }, { workspace })).toMatchObject([
      { input: 'rollback-source', problem: /outside the workspace/ },
    ]);
    expect(problemsOf({ ...rollback, 'rollback-source': 'linked/restore' }, { workspace })).toMatchObject([
      { input: 'rollback-source', problem: /outside the workspace/ },
    ]);
    const s = parseSettings(read({ ...rollback, 'rollback-source': 'restore' }), { workspace });
    expect(s.backup.rollbackSource).toEqual({ kind: 'runner', dir: join(workspace, 'restore') });
  });

  test('an absolute rollback-source (a folder the operator chose on the runner) is taken as given', () => {
    const s = parseSettings(read({ command: 'rollback', 'confirm-rollback': 'prod', 'rollback-source': join(outside, 'restore') }), {
      workspace,
    });
    expect(s.backup.rollbackSource).toEqual({ kind: 'runner', dir: join(outside, 'restore') });
  });
});
