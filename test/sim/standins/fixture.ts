// A simulated cluster on disk for stand-in tests: cluster.json, per-node state.json and a SIM_ROOT per node
// holding what `sim up` writes (repo file, fetched lists, manifests, kubeconfigs, kubelet config).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { clusterConfigurationYaml, kubeletConfigurationYaml, repoFile } from '../../../sim/cluster/configs.ts';
import { executableText } from '../../../sim/pkgs/catalog.ts';
import { controlPlaneManifests } from '../../../sim/cluster/manifests.ts';
import { minorOf } from '../../../sim/cluster/versions.ts';
import type { ClusterSpec, NodeState, SimNodeSpec } from '../../../sim/node/spec.ts';
import { contextFor, type ToolContext } from '../../../sim/standins/context.ts';
import { runTool } from '../../../sim/standins/tools.ts';
import { startFakeApi, syncMirrorPods, type FakeApi } from './fake-api.ts';

export interface NodeDef {
  name: string;
  role?: 'control-plane' | 'worker';
  os?: 'debian' | 'rhel';
  version?: string;
}

export interface Result {
  code: number;
  out: string;
  err: string;
}

export interface SimFixture {
  dir: string;
  spec: ClusterSpec;
  api?: FakeApi;
  nodeDir(name: string): string;
  root(name: string): string;
  file(node: string, path: string): string;
  state(node: string): NodeState;
  run(node: string, tool: string, args: string[], options?: { stdin?: string[]; env?: Record<string, string> }): Promise<Result>;
  /** puts the node's manifests into the fake API as mirror pods */
  sync(node: string, frozen?: Set<string>): void;
  cleanup(): Promise<void>;
}

function put(file: string, content: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content);
}

function nodeObject(node: SimNodeSpec, kubeletVersion: string): object {
  const labels: Record<string, string> = { 'kubernetes.io/hostname': node.name };
  if (node.role === 'control-plane') labels['node-role.kubernetes.io/control-plane'] = '';
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: node.name, labels },
    status: { conditions: [{ type: 'Ready', status: 'True' }], nodeInfo: { kubeletVersion: `v${kubeletVersion}` } },
  };
}

function writeNode(fx: SimFixture, node: SimNodeSpec, api: FakeApi | undefined): void {
  const root = fx.root(node.name);
  const state: NodeState = {
    kubelet: { active: true, version: node.version },
    swap: false,
  };
  put(join(fx.nodeDir(node.name), 'state.json'), JSON.stringify(state, null, 2));
  const repo = repoFile(node);
  put(join(root, repo.path), repo.text);
  // what the packages installed: their executables name the version (sim/pkgs/catalog.ts)
  for (const name of ['kubeadm', 'kubelet', 'kubectl']) put(join(root, 'usr/bin', name), executableText(name, node.version, name));
  put(join(root, 'var/lib/kubelet/config.yaml'), kubeletConfigurationYaml());
  if (api) put(join(root, 'etc/kubernetes/kubelet.conf'), api.kubeconfig);
  if (node.role === 'control-plane') {
    for (const [file, text] of Object.entries(controlPlaneManifests(fx.spec, node)))
      put(join(root, 'etc/kubernetes/manifests', file), text);
    if (api) put(join(root, 'etc/kubernetes/admin.conf'), api.kubeconfig);
    put(join(root, 'var/lib/etcd/member/snap/db'), `etcd data of ${node.name}`);
  }
  api?.objects.set(`/api/v1/nodes/${node.name}`, nodeObject(node, node.version));
}

export async function makeCluster(options: {
  nodes: NodeDef[];
  version?: string;
  published?: string[];
  withApi?: boolean;
}): Promise<SimFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'standins-'));
  const version = options.version ?? '1.30.5';
  const nodes: SimNodeSpec[] = options.nodes.map((n, i) => ({
    name: n.name,
    role: n.role ?? 'worker',
    os: n.os ?? 'debian',
    version: n.version ?? version,
    address: `127.9.9.${10 + i}`,
    sshPort: 22,
    zone: 'zone-a',
  }));
  const published = options.published ?? ['1.29.9', '1.30.0', '1.30.5', '1.30.6', '1.31.0', '1.31.2', '1.32.0', '1.32.1'];
  const spec: ClusterSpec = {
    name: 'sim',
    dir,
    subnet: '127.9.9',
    apiServer: { address: '127.9.9.1', port: 6443, url: 'https://127.9.9.1:6443' },
    pkgs: { address: '127.9.9.2' },
    version,
    published,
    nodes,
    apiOnlyWorkers: 0,
    podsPerNode: 0,
    workload: 'none',
    delays: { kubeletRestartMs: 10, podStartMs: 10, podStopMs: 10, heartbeatMs: 100 },
    node24: process.execPath,
    repoRoot: join(import.meta.dirname, '../../..'),
  };
  writeFileSync(join(dir, 'cluster.json'), JSON.stringify(spec, null, 2));
  const api = options.withApi ? await startFakeApi(mkdtempSync(join(tmpdir(), 'standins-pki-'))) : undefined;
  const fx: SimFixture = {
    dir,
    spec,
    api,
    nodeDir: (name) => join(dir, 'nodes', name),
    root: (name) => join(dir, 'roots', name),
    file: (node, path) => readFileSync(join(fx.root(node), path), 'utf8'),
    state: (node) => JSON.parse(readFileSync(join(fx.nodeDir(node), 'state.json'), 'utf8')) as NodeState,
    async run(node, tool, args, runOptions = {}) {
      let out = '';
      let err = '';
      const lines = [...(runOptions.stdin ?? [])];
      const ctx: ToolContext = contextFor(
        fx.nodeDir(node),
        {
          out: (t) => {
            out += t;
          },
          err: (t) => {
            err += t;
          },
          readLine: async () => lines.shift() ?? '',
        },
        { SIM_ROOT: fx.root(node), SIM_REAL_KUBECTL: '/bin/false', ...runOptions.env },
      );
      const code = await runTool(ctx, tool, args);
      return { code, out, err };
    },
    sync: (node, frozen) => {
      if (api) syncMirrorPods(api, fx.root(node), node, frozen);
    },
    async cleanup() {
      await api?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  for (const node of nodes) writeNode(fx, node, api);
  if (api) {
    const cm = (name: string, data: Record<string, string>) =>
      api.objects.set(`/api/v1/namespaces/kube-system/configmaps/${name}`, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name, namespace: 'kube-system', resourceVersion: '1' },
        data,
      });
    cm('kubeadm-config', { ClusterConfiguration: clusterConfigurationYaml(spec) });
    cm('kubelet-config', { kubelet: kubeletConfigurationYaml() });
    api.version.gitVersion = `v${version}`;
    const workload = (kind: string, name: string, image: string) => ({
      apiVersion: 'apps/v1',
      kind,
      metadata: { name, namespace: 'kube-system' },
      spec: { template: { spec: { containers: [{ name, image }] } } },
    });
    api.objects.set(
      '/apis/apps/v1/namespaces/kube-system/deployments/coredns',
      workload('Deployment', 'coredns', 'registry.k8s.io/coredns/coredns:v1.11.3'),
    );
    api.objects.set(
      '/apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy',
      workload('DaemonSet', 'kube-proxy', `registry.k8s.io/kube-proxy:v${version}`),
    );
    for (const node of nodes) if (node.role === 'control-plane') fx.sync(node.name);
  }
  return fx;
}
