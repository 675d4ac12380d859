import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.ts';
import { checkInventoryAgainstCluster, inventoryFromCluster, inventoryJsonSchema, parseInventory } from '../../src/core/inventory.ts';
import { renderSchema, SCHEMA_PATH } from '../../scripts/gen-schema.ts';
import { node, settingsFrom } from './fixtures.ts';

const settings = settingsFrom();

function problems(text: string, s = settings) {
  try {
    parseInventory(text, 'input', s);
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as InputError).problems;
  }
  throw new Error('expected an InputError');
}

const nodeLine = (fields: string) => `nodes:\n  - { name: cp-1, address: 10.0.0.10, role: control-plane }\n  - { ${fields} }\n`;

describe('parseInventory', () => {
  it('applies defaults: node values, then defaults:, then the inputs', () => {
    const inv = parseInventory(
      [
        'cluster: prod-eu',
        'defaults: { user: ubuntu, port: 2222 }',
        'nodes:',
        '  - { name: cp-1, address: 10.0.0.10, role: control-plane }',
        '  - { name: worker-1, address: worker-1.example.com, role: worker, port: 22, labels: { topology.kubernetes.io/zone: a }, batch: 1, hostKeyFingerprint: "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU" }',
      ].join('\n'),
      'input',
      settingsFrom({ transport: 'ssh' }),
    );
    expect(inv.cluster).toBe('prod-eu');
    expect(inv.nodes[0]).toEqual({
      name: 'cp-1',
      address: '10.0.0.10',
      role: 'control-plane',
      user: 'ubuntu',
      port: 2222,
      transport: 'ssh',
      labels: {},
    });
    expect(inv.nodes[1]).toMatchObject({
      user: 'ubuntu',
      port: 22,
      batch: 1,
      labels: { 'topology.kubernetes.io/zone': 'a' },
      hostKeyFingerprint: expect.stringMatching(/^SHA256:/),
    });
  });

  it('accepts merge keys, as generated inventories use them', () => {
    const text =
      'nodes:\n  - &cp { name: cp-1, address: 10.0.0.1, role: control-plane, user: ops }\n  - { <<: *cp, name: cp-2, address: 10.0.0.2 }\n';
    const inv = parseInventory(text, 'input', settings);
    expect(inv.nodes[1]).toMatchObject({ name: 'cp-2', address: '10.0.0.2', role: 'control-plane', user: 'ops' });
  });

  it.each([
    [
      'shell metacharacters in a name',
      'name: "a;rm -rf /", address: 10.0.0.2, role: worker',
      'nodes[1].name',
      /whitespace|characters other than/,
    ],
    [
      'command substitution as address',
      'name: w-1, address: "$(id)", role: worker',
      'nodes[1].address',
      /neither an IP address nor a host name/,
    ],
    ['option injection as address', 'name: w-1, address: "-oProxyCommand=x", role: worker', 'nodes[1].address', /starts with "-"/],
    [
      'option injection as user',
      'name: w-1, address: 10.0.0.2, role: worker, user: "-oProxyCommand=x"',
      'nodes[1].user',
      /starts with "-"/,
    ],
    ['backticks in a user', 'name: w-1, address: 10.0.0.2, role: worker, user: "`id`"', 'nodes[1].user', /letters, digits/],
    ['whitespace in an address', 'name: w-1, address: "10.0.0.2 -p 2", role: worker', 'nodes[1].address', /IPv4|whitespace|neither/],
    ['a 300-character label', `name: w-1, address: ${'a'.repeat(300)}.example.com, role: worker`, 'nodes[1].address', /at most 253|63/],
    [
      'a 64-character DNS label',
      `name: w-1, address: ${'a'.repeat(64)}.example.com, role: worker`,
      'nodes[1].address',
      /label of 64 characters/,
    ],
    ['an upper-case node name', 'name: Worker-1, address: 10.0.0.2, role: worker', 'nodes[1].name', /upper-case/],
    ['a bad IPv4', 'name: w-1, address: 10.0.0.300, role: worker', 'nodes[1].address', /not a valid one/],
    ['an unknown role', 'name: w-1, address: 10.0.0.2, role: master', 'nodes[1].role', /control-plane|worker/],
    ['a port out of range', 'name: w-1, address: 10.0.0.2, role: worker, port: 0', 'nodes[1].port', /TCP port/],
    [
      'a bad fingerprint',
      'name: w-1, address: 10.0.0.2, role: worker, hostKeyFingerprint: "MD5:aa"',
      'nodes[1].hostKeyFingerprint',
      /SHA256/,
    ],
    ['a bad label key', 'name: w-1, address: 10.0.0.2, role: worker, labels: { "bad key": a }', 'nodes[1].labels.bad key', /label key/],
    ['a missing address', 'name: w-1, role: worker', 'nodes[1].address', /is missing/],
  ])('rejects %s', (_what, fields, path, message) => {
    const found = problems(nodeLine(fields));
    expect(found.map((p) => p.input)).toContain(`inventory: ${path}`);
    expect(found.find((p) => p.input === `inventory: ${path}`)!.problem).toMatch(message);
  });

  it('names a typo and suggests the key meant', () => {
    const [p] = problems(nodeLine('name: w-1, adress: 10.0.0.2, address: 10.0.0.2, role: worker'));
    expect(p).toMatchObject({ input: 'inventory: nodes[1]', problem: 'has unknown key "adress" (did you mean "address"?)' });
    expect(problems('node:\n  - { name: cp-1 }\n')[0]!.problem).toMatch(/"node" \(did you mean "nodes"\?\)/);
  });

  it('rejects duplicate keys instead of letting the last one win', () => {
    const [p] = problems('nodes:\n  - name: cp-1\n    address: 10.0.0.1\n    address: 10.0.0.9\n    role: control-plane\n');
    expect(p).toMatchObject({ input: 'inventory', problem: /duplicate key at line 4/ });
  });

  it('rejects a YAML bomb (billion laughs through aliases)', () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${prev}`).join(',')}]`);
    }
    const [p] = problems(`${levels.join('\n')}\nnodes: [{ name: cp-1, address: 10.0.0.1, role: control-plane }]\n`);
    expect(p!.problem).toMatch(/too many YAML aliases/);
  });

  it('rejects duplicate names and duplicate addresses', () => {
    const found = problems(
      'nodes:\n  - { name: cp-1, address: 10.0.0.1, role: control-plane }\n  - { name: cp-1, address: 10.0.0.2, role: worker }\n  - { name: w-2, address: 10.0.0.1, role: worker }\n',
    );
    expect(found.map((p) => [p.input, p.problem])).toEqual([
      ['inventory: nodes[1].name', '"cp-1" is listed twice (also nodes[0])'],
      ['inventory: nodes[2].address', '10.0.0.1 port 22 is also the address of nodes[0] (cp-1)'],
    ]);
  });

  it('requires a control plane', () => {
    expect(problems('nodes:\n  - { name: w-1, address: 10.0.0.2, role: worker }\n')[0]).toMatchObject({
      input: 'inventory',
      problem: 'has no node with role: control-plane',
    });
  });

  it('rejects empty and non-mapping documents', () => {
    expect(problems('')[0]!.problem).toBe('is empty');
    expect(problems('- a\n- b\n')[0]!.problem).toMatch(/not a mapping/);
    expect(problems('nodes: [\n')[0]!.problem).toMatch(/not valid YAML/);
  });

  it('asks for ssh-private-key and ssh-known-hosts when SSH nodes need them', () => {
    const bare = settingsFrom({ 'ssh-private-key': '', 'ssh-known-hosts': '' });
    const found = problems('nodes:\n  - { name: cp-1, address: 10.0.0.1, role: control-plane }\n', bare);
    expect(found.map((p) => p.input)).toEqual(['ssh-private-key', 'ssh-known-hosts']);
    // Local nodes need neither; a fingerprint replaces known_hosts.
    expect(() =>
      parseInventory('nodes:\n  - { name: cp-1, address: 10.0.0.1, role: control-plane, transport: local }\n', 'input', bare),
    ).not.toThrow();
    const fp = 'hostKeyFingerprint: "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"';
    expect(() =>
      parseInventory(
        `nodes:\n  - { name: cp-1, address: 10.0.0.1, role: control-plane, ${fp} }\n`,
        'input',
        settingsFrom({ 'ssh-known-hosts': '' }),
      ),
    ).not.toThrow();
  });

  it('names the file in errors when read from a path', () => {
    expect(() => parseInventory('nodes: []', 'ci/inventory.yaml', settings)).toThrow(
      /^inventory \(ci\/inventory.yaml\): nodes: lists no nodes/,
    );
  });
});

describe('inventoryFromCluster and checkInventoryAgainstCluster', () => {
  const nodes = [
    node('cp-1', 'control-plane', '1.30.5', { internalIP: '10.0.0.1' }),
    node('w-1', 'worker', '1.30.5', { internalIP: '10.0.0.2', labels: { zone: 'a' } }),
  ];

  it('builds nodes from InternalIPs with the input defaults', () => {
    const inv = inventoryFromCluster(nodes, settingsFrom({ 'ssh-user': 'ops' }));
    expect(inv.nodes[1]).toEqual({
      name: 'w-1',
      address: '10.0.0.2',
      role: 'worker',
      user: 'ops',
      port: 22,
      transport: 'ssh',
      labels: { zone: 'a' },
    });
  });

  it('explains an empty cluster instead of complaining about control planes', () => {
    expect(() => inventoryFromCluster([], settings)).toThrow(/cluster lists no Node objects/);
  });

  it('refuses nodes without a usable address', () => {
    expect(() => inventoryFromCluster([node('w-9', 'worker', '1.30.5', { internalIP: undefined })], settings)).toThrow(
      /w-9 has no usable InternalIP/,
    );
  });

  it('finds inventory nodes missing from the cluster and role mismatches', () => {
    const inv = parseInventory(
      'nodes:\n  - { name: cp-1, address: 10.0.0.1, role: control-plane }\n  - { name: w-1, address: 10.0.0.2, role: control-plane }\n  - { name: ghost, address: 10.0.0.3, role: worker }\n',
      'input',
      settings,
    );
    expect(checkInventoryAgainstCluster(inv, nodes).map((p) => [p.input, p.problem])).toEqual([
      ['inventory: nodes[1].role', 'node "w-1" is a control-plane in the inventory but a worker in the cluster'],
      ['inventory: nodes[2].name', 'node "ghost" does not exist in the cluster'],
    ]);
  });
});

describe('inventory JSON schema', () => {
  it('is committed in sync with the zod schema (run node scripts/gen-schema.ts)', () => {
    expect(readFileSync(SCHEMA_PATH, 'utf8')).toBe(renderSchema());
  });

  it('forbids unknown keys and requires name, address, role', () => {
    const s = inventoryJsonSchema as {
      additionalProperties: boolean;
      properties: { nodes: { items: { required: string[]; additionalProperties: boolean } } };
    };
    expect(s.additionalProperties).toBe(false);
    expect(s.properties.nodes.items.additionalProperties).toBe(false);
    expect(s.properties.nodes.items.required).toEqual(['name', 'address', 'role']);
  });
});
