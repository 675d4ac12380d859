// What `kubeadm init/join` would have left on each SSH node, written into the node's overlay upper dirs, plus its
// state.json, stand-in shims and SSH host key; then the packages, as the real tools installed them (sim/pkgs).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, symlink, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { compileCacheDir, nodePaths, type ClusterSpec, type NodeState, type SimNodeSpec } from '../node/spec.ts';
import type { KeyPairPaths as KeyFiles } from '../lib/pki.ts';
import { renderKubeconfig } from '../lib/kube-rest.ts';
import { pkgsAddressOf } from '../pkgs/setup.ts';
import { copyTemplate, hostsFile } from '../pkgs/templates.ts';
import { kubeadmFlagsEnv, kubeletConfigurationYaml } from './configs.ts';
import { writeNodeLogin } from './login.ts';
import { controlPlaneManifests } from './manifests.ts';
import type { ClusterPki } from './pki.ts';

const execFileAsync = promisify(execFile);

/**
 * The stand-ins a node's /usr/local/sbin holds for what its OS provides (systemctl, swapon, killall), and
 * `sim-standin`, which the executables of the installed packages (kubeadm, kubelet, kubectl, crictl) run.
 */
export const STANDIN_TOOLS = ['systemctl', 'swapon', 'killall'];
const DISPATCHER = 'sim-standin';
/** Where a joined node's kubelet.conf finds its client certificate and key (one file, kept by certificate rotation). */
const KUBELET_CLIENT_CURRENT = '/var/lib/kubelet/pki/kubelet-client-current.pem';

async function put(file: string, content: string, mode = 0o644): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, content, { mode });
}

async function copyKeyPair(from: KeyFiles, toBase: string): Promise<void> {
  await mkdir(dirname(toBase), { recursive: true });
  await Promise.all([copyFile(from.cert, `${toBase}.crt`), copyFile(from.key, `${toBase}.key`)]);
}

export function initialNodeState(node: SimNodeSpec): NodeState {
  return {
    kubelet: { active: true, version: node.version },
    swap: false,
  };
}

/** A stand-in shim: runs sim/standins/main.ts for this node; `tool` undefined = the tool is the first argument. */
export function shimText(spec: ClusterSpec, node: SimNodeSpec, tool?: string): string {
  const main = join(spec.repoRoot, 'sim/standins/main.ts');
  const nodeDir = nodePaths(spec.dir, node.name).nodeDir;
  const command = tool ? `${tool} "$@"` : '"$@"';
  return `#!/bin/sh\nNODE_COMPILE_CACHE=${compileCacheDir(spec)} exec ${spec.node24} ${main} --node-dir ${nodeDir} ${command}\n`;
}

/** Shared kubeconfig texts: rendered once, written on every control plane. */
export interface ControlPlaneKubeconfigs {
  'admin.conf': string;
  'super-admin.conf': string;
  'controller-manager.conf': string;
  'scheduler.conf': string;
}

/** A kubeconfig for `user` with its certificate embedded, pointing at the cluster's API endpoint. */
export function clientKubeconfig(spec: ClusterSpec, pki: ClusterPki, userName: string, client: KeyFiles): string {
  return renderKubeconfig({
    server: spec.apiServer.url,
    clusterName: spec.name,
    userName,
    caPem: readFileSync(pki.ca.cert, 'utf8'),
    certPem: readFileSync(client.cert, 'utf8'),
    keyPem: readFileSync(client.key, 'utf8'),
  });
}

export function controlPlaneKubeconfigs(spec: ClusterSpec, pki: ClusterPki): ControlPlaneKubeconfigs {
  // kubeadm points controller-manager.conf and scheduler.conf at the node's own API server; the simulated
  // cluster has one API server, at the control-plane endpoint
  return {
    'admin.conf': clientKubeconfig(spec, pki, 'kubernetes-admin', pki.admin),
    'super-admin.conf': clientKubeconfig(spec, pki, 'kubernetes-super-admin', pki.superAdmin),
    'controller-manager.conf': clientKubeconfig(spec, pki, 'system:kube-controller-manager', pki.controllerManager),
    'scheduler.conf': clientKubeconfig(spec, pki, 'system:kube-scheduler', pki.scheduler),
  };
}

async function writeControlPlanePki(etcK8s: string, pki: ClusterPki, node: SimNodeSpec): Promise<void> {
  const own = pki.nodes[node.name]?.etcd;
  if (!own) throw new Error(`no etcd certificates were made for ${node.name}`);
  const dir = join(etcK8s, 'pki');
  await Promise.all([
    copyKeyPair(pki.ca, join(dir, 'ca')),
    copyKeyPair(pki.apiserver, join(dir, 'apiserver')),
    copyKeyPair(pki.apiserverKubeletClient, join(dir, 'apiserver-kubelet-client')),
    copyKeyPair(pki.apiserverEtcdClient, join(dir, 'apiserver-etcd-client')),
    copyKeyPair(pki.frontProxyCa, join(dir, 'front-proxy-ca')),
    copyKeyPair(pki.frontProxyClient, join(dir, 'front-proxy-client')),
    copyFile(pki.sa.key, join(dir, 'sa.key')),
    copyFile(pki.sa.pub, join(dir, 'sa.pub')),
    copyKeyPair(pki.etcdCa, join(dir, 'etcd', 'ca')),
    copyKeyPair(own.server, join(dir, 'etcd', 'server')),
    copyKeyPair(own.peer, join(dir, 'etcd', 'peer')),
    copyKeyPair(own.healthcheckClient, join(dir, 'etcd', 'healthcheck-client')),
  ]);
}

/**
 * kubelet.conf as kubeadm leaves it, the kubelet's client certificate (CN=system:node:NAME) and the machine's own
 * /etc/machine-id (the kubelet reports it as nodeInfo.machineID). The first control plane's kubelet.conf carries
 * the certificate inline (as `kubeadm init` wrote it before v1.17's kubelet-finalize phase, which clusters made
 * then still have); every other node's names /var/lib/kubelet/pki/kubelet-client-current.pem, as the kubelet's
 * TLS bootstrap leaves a joined node: a link to kubelet-client-<date>.pem, which holds the certificate and its key.
 */
async function writeKubeletFiles(spec: ClusterSpec, pki: ClusterPki, node: SimNodeSpec, upperEtc: string, upperVar: string) {
  const client = pki.nodes[node.name]?.kubeletClient;
  if (!client) throw new Error(`no kubelet client certificate was made for ${node.name}`);
  const initNode = spec.nodes.find((n) => n.role === 'control-plane')?.name === node.name;
  const kubeletConf = initNode
    ? clientKubeconfig(spec, pki, `system:node:${node.name}`, client)
    : renderKubeconfig({
        server: spec.apiServer.url,
        clusterName: spec.name,
        userName: 'default-auth',
        caPem: readFileSync(pki.ca.cert, 'utf8'),
        certFile: KUBELET_CLIENT_CURRENT,
        keyFile: KUBELET_CLIENT_CURRENT,
      });
  const work: Promise<unknown>[] = [
    put(join(upperEtc, 'kubernetes/kubelet.conf'), kubeletConf, 0o600),
    mkdir(join(upperEtc, 'kubernetes/pki'), { recursive: true }).then(() => copyFile(pki.ca.cert, join(upperEtc, 'kubernetes/pki/ca.crt'))),
    put(join(upperEtc, 'machine-id'), `${randomBytes(16).toString('hex')}\n`, 0o444),
    put(join(upperVar, 'lib/kubelet/config.yaml'), kubeletConfigurationYaml()),
    put(join(upperVar, 'lib/kubelet/kubeadm-flags.env'), kubeadmFlagsEnv()),
  ];
  if (!initNode) {
    const dated = `kubelet-client-${new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}.pem`;
    const pem = readFileSync(client.cert, 'utf8') + readFileSync(client.key, 'utf8');
    const dir = join(upperVar, 'lib/kubelet/pki');
    work.push(
      put(join(dir, dated), pem, 0o600).then(() => symlink(`/var/lib/kubelet/pki/${dated}`, join(dir, 'kubelet-client-current.pem'))),
    );
  }
  await Promise.all(work);
}

async function writeShims(spec: ClusterSpec, node: SimNodeSpec, bin: string): Promise<void> {
  await mkdir(bin, { recursive: true });
  await Promise.all([
    ...STANDIN_TOOLS.map((tool) => put(join(bin, tool), shimText(spec, node, tool), 0o755)),
    put(join(bin, DISPATCHER), shimText(spec, node), 0o755),
  ]);
}

/** The node's host key and its host certificate (HOSTKEY-cert.pub) from the cluster's host CA, naming its address. */
async function writeHostKey(spec: ClusterSpec, hostKey: string, node: SimNodeSpec): Promise<void> {
  await execFileAsync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `root@${node.name}`, '-f', hostKey]);
  const ca = join(spec.dir, 'ssh', 'host_ca');
  await execFileAsync('ssh-keygen', ['-q', '-s', ca, '-I', node.name, '-h', '-n', node.address, '-V', '-5m:+52w', `${hostKey}.pub`]);
}

/** Everything one node needs before its supervisor starts. */
export async function writeNodeFiles(spec: ClusterSpec, pki: ClusterPki, confs: ControlPlaneKubeconfigs, node: SimNodeSpec) {
  const paths = nodePaths(spec.dir, node.name);
  const etcK8s = join(paths.upperEtc, 'kubernetes');
  await Promise.all([paths.upperEtc, paths.upperVar, paths.workEtc, paths.workVar].map((d) => mkdir(d, { recursive: true })));
  const work: Promise<unknown>[] = [
    writeKubeletFiles(spec, pki, node, paths.upperEtc, paths.upperVar),
    writeShims(spec, node, paths.bin),
    writeHostKey(spec, paths.hostKey, node),
    put(paths.stateFile, `${JSON.stringify(initialNodeState(node), null, 2)}\n`),
    put(paths.commandsLog, ''),
    writeNodeLogin(spec, node, paths, `${join(spec.dir, 'ssh', 'id_ed25519')}.pub`, STANDIN_TOOLS),
  ];
  if (node.role === 'control-plane') {
    work.push(writeControlPlanePki(etcK8s, pki, node));
    const joins = spec.nodes.find((n) => n.role === 'control-plane')?.name !== node.name;
    for (const [file, text] of Object.entries(controlPlaneManifests(spec, node))) {
      // as `kubeadm join`: etcd.yaml only after the member was added (joinEtcdMembers)
      if (joins && file === 'etcd.yaml') continue;
      work.push(put(join(etcK8s, 'manifests', file), text, 0o600));
    }
    for (const [file, text] of Object.entries(confs)) work.push(put(join(etcK8s, file), text, 0o600));
  }
  await Promise.all(work);
}

/** The node's packages as its template has them (sim/pkgs/templates.ts), and its /etc/hosts naming pkgs.k8s.io. */
export async function installNodePackages(spec: ClusterSpec, node: SimNodeSpec, template: string): Promise<void> {
  const upper = join(nodePaths(spec.dir, node.name).nodeDir, 'upper');
  await copyTemplate(template, upper);
  await put(join(upper, 'etc/hosts'), hostsFile(pkgsAddressOf(spec, node)));
}
