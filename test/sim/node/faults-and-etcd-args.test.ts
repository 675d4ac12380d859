// The fault matcher the forced command and the stand-ins share, and how etcd's command line is
// derived from a kubeadm etcd manifest.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { etcdArgsFromManifest, knownEtcdFlags, type StaticPodManifest } from '../../../sim/node/etcd.ts';
import { hasNeverReadyFault, matchCommandFault, takeCommandFault, type FaultSpec } from '../../../sim/node/faults.ts';
import { etcdManifestYaml, node24, repoRoot } from './fixture.ts';

let dir: string;
const writeFaults = (faults: FaultSpec[]) => writeFileSync(join(dir, 'faults.json'), JSON.stringify(faults));

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sim-faults-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('matchCommandFault', () => {
  it('finds nothing when there is no faults file', () => {
    expect(matchCommandFault(dir, 'cp-1', 'kubeadm upgrade apply v1.31.1')).toBeUndefined();
  });

  it('matches a substring of the command on the named node or on every node', () => {
    writeFaults([
      { type: 'never-ready', node: 'cp-1' },
      { type: 'command-fails', node: 'worker-1', match: 'kubeadm upgrade', exitCode: 3 },
      { type: 'ssh-drop', node: '*', match: 'apt-get install' },
    ]);
    expect(matchCommandFault(dir, 'worker-1', 'kubeadm upgrade node')).toMatchObject({ type: 'command-fails', exitCode: 3 });
    expect(matchCommandFault(dir, 'cp-1', 'kubeadm upgrade node')).toBeUndefined();
    expect(matchCommandFault(dir, 'cp-1', 'apt-get install -y kubeadm=1.31.1-1.1')).toMatchObject({ type: 'ssh-drop' });
  });

  it('lets a fault with `times` fire that often, then no more', () => {
    writeFaults([{ type: 'command-fails', node: 'cp-1', match: 'drain', times: 2 }]);
    const fired = [1, 2, 3].map(() => takeCommandFault(dir, 'cp-1', 'kubectl drain cp-1')?.type);
    expect(fired).toEqual(['command-fails', 'command-fails', undefined]);
    expect(matchCommandFault(dir, 'cp-1', 'kubectl drain cp-1')).toBeUndefined();
  });

  it('counts `times` across processes racing for the same fault', async () => {
    writeFaults([{ type: 'command-fails', node: '*', match: 'upgrade', times: 2 }]);
    const script =
      `import { takeCommandFault } from ${JSON.stringify(join(repoRoot, 'sim/node/faults.ts'))};\n` +
      `process.stdout.write(takeCommandFault(${JSON.stringify(dir)}, 'cp-1', 'kubeadm upgrade apply') ? 'fired' : 'none');\n`;
    const scriptFile = join(dir, 'take.ts');
    writeFileSync(scriptFile, script);
    const results = await Promise.all(Array.from({ length: 6 }, () => promisify(execFile)(node24, [scriptFile])));
    expect(results.map((r) => r.stdout).filter((o) => o === 'fired')).toHaveLength(2);
    expect(Object.values(JSON.parse(readFileSync(join(dir, 'faults-state.json'), 'utf8')))).toEqual([2]);
  });

  it('says whether a never-ready fault names the node', () => {
    writeFaults([{ type: 'never-ready', node: 'worker-2' }]);
    expect(hasNeverReadyFault(dir, 'worker-2')).toBe(true);
    expect(hasNeverReadyFault(dir, 'worker-1')).toBe(false);
  });

  it('names the file when faults.json is not a list', () => {
    writeFileSync(join(dir, 'faults.json'), '{"type":"never-ready"}');
    expect(() => matchCommandFault(dir, 'cp-1', 'x')).toThrow(/faults\.json is not valid: expected a JSON array/);
  });
});

describe('etcdArgsFromManifest', () => {
  const address = '127.150.3.10';
  const manifest = parseYaml(etcdManifestYaml(address, ['--initial-cluster-state', 'existing'])) as StaticPodManifest;

  it('keeps the flags etcd 3.4 knows, drops the others', () => {
    const { args, dropped } = etcdArgsFromManifest(manifest, address);
    expect(dropped).toEqual(['feature-gates']);
    expect(args).toContain('--data-dir=/var/lib/etcd');
    expect(args).toContain('--name=cp-1');
    expect(args).toContain('--trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt');
    expect(args).toContain('--initial-cluster-state=existing');
    expect(args.every((a) => a.startsWith('--') && knownEtcdFlags().has(a.slice(2).split('=')[0] ?? ''))).toBe(true);
  });

  it('listens on the node address only: 127.0.0.1 is shared by every node', () => {
    const { args } = etcdArgsFromManifest(manifest, address);
    expect(args).toContain(`--listen-client-urls=https://${address}:2379`);
    expect(args).toContain(`--listen-metrics-urls=http://${address}:2381`);
    expect(args).toContain(`--advertise-client-urls=https://${address}:2379`);
  });

  it('refuses a manifest without a command', () => {
    expect(() => etcdArgsFromManifest({ spec: { containers: [{ name: 'etcd' }] } }, address)).toThrow(/no container command/);
  });
});
