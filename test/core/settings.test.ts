import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.ts';
import { parseSettings, type SettingsEnv } from '../../src/core/settings.ts';

const read = (inputs: Record<string, string>) => (name: string) => inputs[name] ?? '';
const parse = (inputs: Record<string, string>, env?: SettingsEnv) => parseSettings(read({ 'target-version': '1.31', ...inputs }), env);

function problemsOf(fn: () => unknown) {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as InputError).problems;
  }
  throw new Error('expected an InputError');
}

describe('parseSettings defaults', () => {
  it('gives the documented defaults when only target-version is set', () => {
    const s = parse({});
    expect(s).toMatchObject({
      command: 'plan',
      transport: 'ssh',
      force: false,
      prComment: 'auto',
      parallelism: 10,
      maxUnavailable: { kind: 'count', value: 1 },
    });
    expect(s.ssh).toEqual({ user: 'root', port: 22, insecureSkipHostKeyCheck: false });
    expect(s.target).toEqual({ raw: '1.31', major: 1, minor: 31 });
    expect(s.warnings).toEqual([]);
  });

  it('parses every input', () => {
    const s = parse({
      command: 'plan',
      'target-version': 'v1.31.4',
      'ssh-user': 'ubuntu',
      'ssh-port': '2222',
      'ssh-jump-host': 'bastion@203.0.113.5:2200',
      transport: 'local',
      'max-unavailable': '25%',
      'batch-by-label': 'topology.kubernetes.io/zone',
      force: 'TRUE',
      'pr-comment': 'always',
      parallelism: '4',
    });
    expect(s.target).toEqual({ raw: 'v1.31.4', major: 1, minor: 31, patch: 4 });
    expect(s.ssh).toMatchObject({ user: 'ubuntu', port: 2222, jumpHost: { user: 'bastion', host: '203.0.113.5', port: 2200 } });
    expect(s).toMatchObject({
      transport: 'local',
      maxUnavailable: { kind: 'percent', value: 25 },
      batchByLabel: 'topology.kubernetes.io/zone',
      force: true,
      prComment: 'always',
      parallelism: 4,
    });
  });

  it('fills the jump host user and port from ssh-user and 22', () => {
    expect(parse({ 'ssh-user': 'ops', 'ssh-jump-host': 'bastion.example.com' }).ssh.jumpHost).toEqual({
      user: 'ops',
      host: 'bastion.example.com',
      port: 22,
    });
    expect(parse({ 'ssh-jump-host': '[fd00::1]:22' }).ssh.jumpHost).toEqual({ user: 'root', host: 'fd00::1', port: 22 });
  });

  it('only warns when host-key checking is switched off', () => {
    const s = parse({ 'ssh-insecure-skip-host-key-check': 'true' });
    expect(s.ssh.insecureSkipHostKeyCheck).toBe(true);
    expect(s.warnings.join()).toMatch(/NOT verified/);
  });
});

describe('parseSettings errors name the input, the problem and the fix', () => {
  it.each([
    ['command', 'deploy', /not one of plan, upgrade/],
    ['target-version', '1.31.x', /not a Kubernetes version/],
    ['ssh-user', 'root;id', /letters, digits/],
    ['ssh-user', '-oProxyCommand=x', /starts with "-"/],
    ['ssh-port', '70000', /1 to 65535/],
    ['ssh-jump-host', 'me@$(id):22', /host/],
    ['ssh-jump-host', 'a b@host', /user/],
    ['ssh-insecure-skip-host-key-check', 'yes', /not a boolean/],
    ['transport', 'telnet', /not one of ssh, local/],
    ['max-unavailable', '0', /neither a node count/],
    ['max-unavailable', '150%', /percentage from 1% to 100%/],
    ['batch-by-label', 'zone name', /not a label key/],
    ['force', 'maybe', /not a boolean/],
    ['pr-comment', 'sometimes', /not one of auto, always, never/],
    ['parallelism', '0', /whole number from 1/],
    ['ssh-private-key', 'hunter2', /does not look like a private key/],
  ])('%s = %j', (input, value, message) => {
    const problems = problemsOf(() => parse({ [input]: value }));
    expect(problems).toHaveLength(1);
    expect(problems[0]!.input).toBe(input);
    expect(problems[0]!.problem).toMatch(message);
    expect(problems[0]!.fix.length).toBeGreaterThan(5);
  });

  it('never echoes a secret in the message', () => {
    const error = (() => {
      try {
        parse({ 'ssh-private-key': 'my-secret-password' });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error?.message).not.toContain('my-secret-password');
  });

  it('reports every bad input at once, one per line', () => {
    const problems = problemsOf(() => parse({ 'ssh-port': 'x', transport: 'ftp', 'target-version': 'latest' }));
    expect(problems.map((p) => p.input).sort()).toEqual(['ssh-port', 'target-version', 'transport']);
  });

  it('requires target-version for plan but not for backup', () => {
    expect(problemsOf(() => parseSettings(read({})))[0]).toMatchObject({ input: 'target-version', problem: /is empty/ });
    expect(parseSettings(read({ command: 'backup' })).target.raw).toBe('');
  });
});

describe('inventory input', () => {
  const yaml = 'nodes:\n  - { name: cp-1, address: 10.0.0.1, role: control-plane }\n';
  it('passes YAML text through with source "input"', () => {
    expect(parse({ inventory: yaml }).inventory).toEqual({ text: yaml.trim(), source: 'input' });
  });

  it('reads a workspace path through env.readFile', () => {
    const seen: string[] = [];
    const s = parse({ inventory: '.github/inventory.yaml' }, { workspace: '/ws', readFile: (p) => (seen.push(p), yaml) });
    expect(seen).toEqual(['/ws/.github/inventory.yaml']);
    expect(s.inventory).toEqual({ text: yaml, source: '.github/inventory.yaml' });
  });

  it.each(['../secrets.yaml', '/etc/passwd', 'a/../../x'])('refuses %s outside the workspace', (p) => {
    const problems = problemsOf(() => parse({ inventory: p }, { workspace: '/ws', readFile: () => yaml }));
    expect(problems[0]).toMatchObject({ input: 'inventory', problem: /outside the workspace/ });
  });

  it('says how to fix an unreadable file', () => {
    const problems = problemsOf(() =>
      parse(
        { inventory: 'missing.yaml' },
        {
          workspace: '/ws',
          readFile: () => {
            throw Object.assign(new Error('nope'), { code: 'ENOENT' });
          },
        },
      ),
    );
    expect(problems[0]).toMatchObject({ input: 'inventory', problem: /missing.yaml cannot be read \(ENOENT\)/, fix: /actions\/checkout/ });
  });

  it('refuses an inventory file over 10 MiB', () => {
    const big = `nodes:\n${'#'.repeat(10 * 1024 * 1024)}\n`;
    expect(problemsOf(() => parse({ inventory: 'big.yaml' }, { workspace: '/ws', readFile: () => big }))[0]!.problem).toMatch(
      /file big.yaml is larger than 10485760 bytes/,
    );
  });
});
