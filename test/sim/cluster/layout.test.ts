// What `sim up` writes before anything starts: spec, PKI, node files, access files (no processes here).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { writeClusterLayout } from '../../../sim/cluster/layout.ts';
import { etcdManifest } from '../../../sim/cluster/manifests.ts';
import { buildClusterSpec, resolveOptions } from '../../../sim/cluster/options.ts';
import type { ClusterSpec } from '../../../sim/node/spec.ts';

const x509 = (file: string, ...what: string[]) => execFileSync('openssl', ['x509', '-in', file, '-noout', ...what], { encoding: 'utf8' });

describe('cluster layout', () => {
  let dir: string;
  let spec: ClusterSpec;
  const node = (name: string) => join(dir, 'nodes', name);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sim-layout-'));
    spec = buildClusterSpec(resolveOptions({ dir, controlPlanes: 3, workers: 2, workerVersion: '1.29.9', os: 'mixed' }), '127.199.250');
    await writeClusterLayout(spec, [{ type: 'never-ready', node: 'worker-1' }]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes cluster.json with the addresses of the README', () => {
    const written = JSON.parse(readFileSync(join(dir, 'cluster.json'), 'utf8')) as ClusterSpec;
    expect(written.apiServer).toEqual({ address: '127.199.250.1', port: 6443, url: 'https://127.199.250.1:6443' });
    expect(written.nodes.map((n) => [n.name, n.address, n.role, n.os, n.version])).toEqual([
      ['cp-1', '127.199.250.10', 'control-plane', 'debian', '1.30.5'],
      ['cp-2', '127.199.250.11', 'control-plane', 'rhel', '1.30.5'],
      ['cp-3', '127.199.250.12', 'control-plane', 'debian', '1.30.5'],
      ['worker-1', '127.199.250.13', 'worker', 'rhel', '1.29.9'],
      ['worker-2', '127.199.250.14', 'worker', 'debian', '1.29.9'],
    ]);
    expect(written.published).toContain('1.31.0');
    expect(written.published).toContain('1.28.0');
    expect(JSON.parse(readFileSync(join(dir, 'faults.json'), 'utf8'))).toEqual([{ type: 'never-ready', node: 'worker-1' }]);
  });

  it('issues certificates with the identities and addresses clients check', () => {
    const pki = join(dir, 'pki');
    expect(x509(join(pki, 'admin.crt'), '-subject')).toMatch(/O = system:masters, CN = kubernetes-admin/);
    expect(x509(join(pki, 'apiserver.crt'), '-ext', 'subjectAltName')).toContain('IP Address:127.199.250.1');
    expect(x509(join(pki, 'nodes/worker-2/kubelet-client.crt'), '-subject')).toMatch(/O = system:nodes, CN = system:node:worker-2/);
    const etcdServer = join(node('cp-2'), 'upper/etc/kubernetes/pki/etcd/server.crt');
    expect(x509(etcdServer, '-ext', 'subjectAltName')).toContain('IP Address:127.199.250.11');
    const verify = execFileSync('openssl', ['verify', '-CAfile', join(pki, 'etcd-ca.crt'), etcdServer], { encoding: 'utf8' });
    expect(verify).toContain(': OK');
    expect(statSync(join(pki, 'ca.key')).mode & 0o077).toBe(0);
  });

  it('writes kubeadm static pod manifests: etcd.yaml of the first control plane names only itself, a joining one waits', () => {
    const first = parseYaml(readFileSync(join(node('cp-1'), 'upper/etc/kubernetes/manifests/etcd.yaml'), 'utf8'));
    const command: string[] = first.spec.containers[0].command;
    expect(first.spec.containers[0].image).toBe('registry.k8s.io/etcd:3.5.15-0');
    expect(command).toContain('--name=cp-1');
    expect(command).toContain('--listen-client-urls=https://127.199.250.10:2379');
    expect(command).toContain('--initial-cluster=cp-1=https://127.199.250.10:2380');
    expect(command.some((f) => f.startsWith('--initial-cluster-state'))).toBe(false);
    // `kubeadm join --control-plane` writes it only after adding the member (up does that: etcd-join.ts)
    expect(existsSync(join(node('cp-3'), 'upper/etc/kubernetes/manifests/etcd.yaml'))).toBe(false);
    expect(existsSync(join(node('cp-3'), 'upper/etc/kubernetes/manifests/kube-apiserver.yaml'))).toBe(true);
    const joined: string[] = parseYaml(etcdManifest(spec, spec.nodes[2]!)).spec.containers[0].command;
    expect(joined).toContain(
      '--initial-cluster=cp-1=https://127.199.250.10:2380,cp-2=https://127.199.250.11:2380,cp-3=https://127.199.250.12:2380',
    );
    expect(joined).toContain('--initial-cluster-state=existing');
    const apiserver = parseYaml(readFileSync(join(node('cp-1'), 'upper/etc/kubernetes/manifests/kube-apiserver.yaml'), 'utf8'));
    expect(apiserver.spec.containers[0].image).toBe('registry.k8s.io/kube-apiserver:v1.30.5');
    expect(apiserver.spec.containers[0].command).toContain('--advertise-address=127.199.250.10');
  });

  it('gives control planes their kubeconfigs and every node its kubelet files (the packages come from pkgs.k8s.io at up)', () => {
    for (const conf of ['admin.conf', 'super-admin.conf', 'controller-manager.conf', 'scheduler.conf', 'kubelet.conf']) {
      expect(readFileSync(join(node('cp-1'), 'upper/etc/kubernetes', conf), 'utf8')).toContain('server: https://127.199.250.1:6443');
    }
    // the first control plane's kubelet.conf carries its certificate inline; a joined node's names the file the
    // kubelet's TLS bootstrap writes (certificate and key), through the kubelet-client-current.pem link
    const initConf = parseYaml(readFileSync(join(node('cp-1'), 'upper/etc/kubernetes/kubelet.conf'), 'utf8'));
    expect(initConf.users[0].name).toBe('system:node:cp-1');
    expect(initConf.users[0].user['client-certificate-data']).toBeTruthy();
    const kubelet = parseYaml(readFileSync(join(node('worker-2'), 'upper/etc/kubernetes/kubelet.conf'), 'utf8'));
    const current = '/var/lib/kubelet/pki/kubelet-client-current.pem';
    expect(kubelet.users[0].user).toEqual({ 'client-certificate': current, 'client-key': current });
    const link = readlinkSync(join(node('worker-2'), 'upper', current));
    expect(link).toMatch(/^\/var\/lib\/kubelet\/pki\/kubelet-client-\d{8}-\d{6}\.pem$/);
    const pem = join(node('worker-2'), 'upper', link);
    expect(readFileSync(pem, 'utf8')).toMatch(/-----END CERTIFICATE-----\n-----BEGIN (EC )?PRIVATE KEY-----/);
    expect(statSync(pem).mode & 0o777).toBe(0o600);
    expect(x509(pem, '-subject')).toMatch(/CN\s*=\s*system:node:worker-2/);
    // each machine its own /etc/machine-id
    const ids = ['cp-1', 'cp-2', 'worker-2'].map((n) => readFileSync(join(node(n), 'upper/etc/machine-id'), 'utf8'));
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}\n$/);
    expect(new Set(ids).size).toBe(3);
    expect(parseYaml(readFileSync(join(node('worker-2'), 'upper/var/lib/kubelet/config.yaml'), 'utf8')).kind).toBe('KubeletConfiguration');
    expect(JSON.parse(readFileSync(join(node('worker-1'), 'state.json'), 'utf8'))).toEqual({
      kubelet: { active: true, version: '1.29.9' },
      swap: false,
    });
  });

  it('writes one stand-in shim per tool the OS provides, and the dispatcher the packages run, exactly as the README shows', () => {
    const run = `NODE_COMPILE_CACHE=${spec.repoRoot}/node_modules/.cache/sim-compile-cache exec ${process.execPath} ${spec.repoRoot}/sim/standins/main.ts --node-dir ${node('cp-1')}`;
    expect(readFileSync(join(node('cp-1'), 'bin/systemctl'), 'utf8')).toBe(`#!/bin/sh\n${run} systemctl "$@"\n`);
    expect(readFileSync(join(node('cp-1'), 'bin/sim-standin'), 'utf8')).toBe(`#!/bin/sh\n${run} "$@"\n`);
    expect(statSync(join(node('cp-1'), 'bin/sim-standin')).mode & 0o111).toBe(0o111);
    // kubeadm, kubelet and kubectl are not shims: the packages install them
    expect(existsSync(join(node('cp-1'), 'bin/kubeadm'))).toBe(false);
  });

  it('signs each node host key with the cluster host CA for its address, and writes known_hosts_ca', () => {
    const certificate = execFileSync('ssh-keygen', ['-L', '-f', join(node('worker-1'), 'ssh_host_ed25519_key-cert.pub')], {
      encoding: 'utf8',
    });
    expect(certificate).toContain('ssh-ed25519-cert-v01@openssh.com host certificate');
    expect(certificate).toMatch(/Principals: \n\s+127\.199\.250\.13\n/);
    const ca = readFileSync(join(dir, 'ssh/host_ca.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
    const patterns = ['10', '11', '12', '13', '14'].map((n) => `127.199.250.${n}`).join(',');
    expect(readFileSync(join(dir, 'ssh/known_hosts_ca'), 'utf8')).toBe(`@cert-authority ${patterns} ${ca}\n`);
  });

  it('writes known_hosts with each node real host key, and the inventory', () => {
    const knownHosts = readFileSync(join(dir, 'ssh/known_hosts'), 'utf8').trim().split('\n');
    expect(knownHosts).toHaveLength(5);
    const hostKey = readFileSync(join(node('worker-1'), 'ssh_host_ed25519_key.pub'), 'utf8')
      .split(' ')
      .slice(0, 2)
      .join(' ');
    expect(knownHosts[3]).toBe(`127.199.250.13 ${hostKey}`);
    expect(readFileSync(join(dir, 'ssh/authorized_keys'), 'utf8')).toBe(readFileSync(join(dir, 'ssh/id_ed25519.pub'), 'utf8'));
    const inventory = parseYaml(readFileSync(join(dir, 'inventory.yaml'), 'utf8'));
    expect(inventory.defaults).toEqual({ user: 'root', port: 22, transport: 'ssh' });
    expect(inventory.nodes[0]).toEqual({ name: 'cp-1', address: '127.199.250.10', role: 'control-plane' });
    expect(inventory.nodes[4]).toEqual({
      name: 'worker-2',
      address: '127.199.250.14',
      role: 'worker',
      labels: { 'topology.kubernetes.io/zone': 'zone-b' },
    });
  });
});

describe('up options', () => {
  it('applies the README defaults', () => {
    const options = resolveOptions({ dir: '/tmp/x' });
    expect(options).toMatchObject({
      controlPlanes: 3,
      workers: 6,
      version: '1.30.5',
      workerVersion: '1.30.5',
      os: 'debian',
      apiOnlyWorkers: 0,
      podsPerNode: 0,
      workload: 'none',
    });
    expect(options.published[0]).toBe('1.29.0');
    expect(options.published.at(-1)).toBe('1.31.13');
  });

  it.each([
    [{ version: 'v1.30.5' }, '--version must be a version like 1.30.5'],
    [{ controlPlanes: 0 }, '--control-planes must be a whole number from 1'],
    [{ controlPlanes: 200, workers: 100 }, 'at most 245'],
    [{ os: 'ubuntu' as never }, '--os must be debian, rhel or mixed'],
    [{ workload: 'big' as never }, '--workload must be none or demo'],
    [{ published: ['1.30.6'] }, '--published must include the installed --version 1.30.5'],
    [{ dir: '/tmp/my cluster' }, '--dir must not contain whitespace'],
    [{ bastion: true }, '--bastion needs --login-user NAME'],
    [{ loginUser: 'Ops!' }, '--login-user must be a plain user name'],
    [{ loginUser: 'nobody' }, '--login-user "nobody" already exists on this machine'],
    [{ loginUser: 'ops', loginSudo: 'maybe' as never }, '--login-sudo must be nopasswd or password'],
  ])('rejects %j', (options, message) => {
    expect(() => resolveOptions({ dir: '/tmp/x', ...options })).toThrow(message);
  });
});

describe('cluster layout with a login user and a bastion', () => {
  let dir: string;
  let spec: ClusterSpec;
  const upper = (node: string, path: string) => join(dir, 'nodes', node, 'upper', path);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sim-layout-login-'));
    spec = buildClusterSpec(
      resolveOptions({ dir, controlPlanes: 1, workers: 1, os: 'mixed', loginUser: 'ops', bastion: true }),
      '127.199.251',
    );
    await writeClusterLayout(spec);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("puts ops in each node's own passwd, shadow (no usable password) and group, with a home under /var", () => {
    const { uid, gid } = spec.login!;
    expect(uid).toBeGreaterThanOrEqual(2000);
    for (const node of ['cp-1', 'worker-1']) {
      expect(readFileSync(upper(node, 'etc/passwd'), 'utf8')).toMatch(
        new RegExp(`^root:x:0:0:.*\\nops:x:${uid}:${gid}:[^:]*:/var/home/ops:/bin/sh\\n$`, 's'),
      );
      expect(readFileSync(upper(node, 'etc/shadow'), 'utf8')).toMatch(/\nops:\*:\d+:0:99999:7:::\n$/);
      expect(statSync(upper(node, 'etc/shadow')).mode & 0o777).toBe(statSync('/etc/shadow').mode & 0o777);
      expect(readFileSync(upper(node, 'etc/group'), 'utf8')).toMatch(new RegExp(`\\nops:x:${gid}:\\n$`));
      const keys = statSync(upper(node, 'var/home/ops/.ssh/authorized_keys'));
      expect([keys.uid, keys.mode & 0o777]).toEqual([uid, 0o600]);
      expect(readFileSync(upper(node, 'var/home/ops/.ssh/authorized_keys'), 'utf8')).toBe(
        readFileSync(join(dir, 'ssh', 'id_ed25519.pub'), 'utf8'),
      );
      const sudoers = upper(node, 'etc/sudoers.d/ops');
      expect(readFileSync(sudoers, 'utf8')).toContain('ops ALL=(ALL:ALL) NOPASSWD: ALL');
      expect([statSync(sudoers).uid, statSync(sudoers).mode & 0o777]).toEqual([0, 0o440]);
    }
    // requiretty with the exemption on the RHEL-family node only
    expect(readFileSync(upper('worker-1', 'etc/sudoers.d/00-requiretty'), 'utf8')).toMatch(
      /^Defaults requiretty\nDefaults:ops !requiretty$/m,
    );
    expect(() => statSync(upper('cp-1', 'etc/sudoers.d/00-requiretty'))).toThrow(/ENOENT/);
  });

  it('lets ops write commands.log and DIR (group), names ops in the inventory and the bastion in known_hosts', () => {
    expect([statSync(dir).gid, statSync(dir).mode & 0o777]).toEqual([spec.login!.gid, 0o770]);
    const log = statSync(join(dir, 'nodes', 'cp-1', 'commands.log'));
    expect([log.gid, log.mode & 0o777]).toEqual([spec.login!.gid, 0o664]);
    expect(statSync(join(dir, 'kubeconfig')).mode & 0o077).toBe(0);
    const inventory = readFileSync(join(dir, 'inventory.yaml'), 'utf8');
    expect(inventory).toContain('defaults: { user: ops, port: 22, transport: ssh }');
    expect(inventory).toContain('# reach the nodes through the bastion: ssh-jump-host: ops@127.199.251.3:22');
    expect(readFileSync(join(dir, 'ssh', 'known_hosts'), 'utf8')).toMatch(/^127\.199\.251\.3 ssh-ed25519 \S+$/m);
    const config = readFileSync(join(dir, 'bastion', 'sshd_config'), 'utf8');
    expect(config).toContain('PermitOpen 127.199.251.10:22 127.199.251.11:22');
    expect(config).toMatch(/^PermitTTY no$/m);
    expect(config).toMatch(/^ForceCommand \/usr\/sbin\/nologin$/m);
    expect(readFileSync(join(dir, 'bastion', 'upper', 'etc', 'passwd'), 'utf8')).toMatch(
      /\nops:x:\d+:\d+:[^:]*:\/nonexistent:\/usr\/sbin\/nologin\n$/,
    );
  });
});
