// Static pod manifests in the shape `kubeadm init/join --control-plane` writes to /etc/kubernetes/manifests.
// Differences from kubeadm, because every simulated node shares the host's network: etcd listens on the
// node's address only (not also 127.0.0.1) and serves metrics there, and kube-apiserver's --etcd-servers
// points at the node's address.
import { stringify } from 'yaml';
import type { ClusterSpec, SimNodeSpec } from '../node/spec.ts';
import { etcdImage } from './versions.ts';

interface HostPathVolume {
  name: string;
  path: string;
  type: string;
  readOnly?: boolean;
}

function probe(host: string, path: string, port: number, scheme: string, failureThreshold: number) {
  return {
    failureThreshold,
    httpGet: { host, path, port, scheme },
    initialDelaySeconds: 10,
    periodSeconds: 10,
    timeoutSeconds: 15,
  };
}

function staticPod(
  component: string,
  image: string,
  command: string[],
  volumes: HostPathVolume[],
  extra: {
    annotations?: Record<string, string>;
    cpu: string;
    probeHost: string;
    probePath: string;
    probePort: number;
    scheme: string;
    memory?: string;
  },
): string {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...(extra.annotations ? { annotations: extra.annotations } : {}),
      labels: { component, tier: 'control-plane' },
      name: component,
      namespace: 'kube-system',
    },
    spec: {
      containers: [
        {
          command,
          image,
          imagePullPolicy: 'IfNotPresent',
          livenessProbe: probe(extra.probeHost, extra.probePath, extra.probePort, extra.scheme, 8),
          name: component,
          resources: { requests: { cpu: extra.cpu, ...(extra.memory ? { memory: extra.memory } : {}) } },
          startupProbe: probe(extra.probeHost, extra.probePath, extra.probePort, extra.scheme, 24),
          volumeMounts: volumes.map((v) => ({ mountPath: v.path, name: v.name, ...(v.readOnly ? { readOnly: true } : {}) })),
        },
      ],
      hostNetwork: true,
      priority: 2000001000,
      priorityClassName: 'system-node-critical',
      securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
      volumes: volumes.map((v) => ({ hostPath: { path: v.path, type: v.type }, name: v.name })),
    },
    status: {},
  };
  return stringify(pod);
}

const K8S_CERTS: HostPathVolume = { name: 'k8s-certs', path: '/etc/kubernetes/pki', type: 'DirectoryOrCreate', readOnly: true };
const CA_CERTS: HostPathVolume = { name: 'ca-certs', path: '/etc/ssl/certs', type: 'DirectoryOrCreate', readOnly: true };

/**
 * kubeadm's etcd manifest for this control plane. --initial-cluster is the cluster as it was when this member
 * joined: `kubeadm init` (the first control plane) lists only itself; `kubeadm join --control-plane` adds the
 * member to the running cluster first, then lists the members so far and itself with
 * --initial-cluster-state=existing (cmd/kubeadm/app/phases/etcd/local.go, getEtcdCommand).
 */
export function etcdManifest(spec: ClusterSpec, node: SimNodeSpec): string {
  const controlPlanes = spec.nodes.filter((n) => n.role === 'control-plane');
  const upTo = controlPlanes.findIndex((n) => n.name === node.name);
  const peers = controlPlanes.slice(0, upTo + 1).map((n) => `${n.name}=https://${n.address}:2380`);
  const pki = '/etc/kubernetes/pki/etcd';
  const command = [
    'etcd',
    `--advertise-client-urls=https://${node.address}:2379`,
    `--cert-file=${pki}/server.crt`,
    '--client-cert-auth=true',
    '--data-dir=/var/lib/etcd',
    '--experimental-initial-corrupt-check=true',
    '--experimental-watch-progress-notify-interval=5s',
    `--initial-advertise-peer-urls=https://${node.address}:2380`,
    `--initial-cluster=${peers.join(',')}`,
    ...(upTo > 0 ? ['--initial-cluster-state=existing'] : []),
    `--key-file=${pki}/server.key`,
    `--listen-client-urls=https://${node.address}:2379`,
    `--listen-metrics-urls=http://${node.address}:2381`,
    `--listen-peer-urls=https://${node.address}:2380`,
    `--name=${node.name}`,
    `--peer-cert-file=${pki}/peer.crt`,
    '--peer-client-cert-auth=true',
    `--peer-key-file=${pki}/peer.key`,
    `--peer-trusted-ca-file=${pki}/ca.crt`,
    '--snapshot-count=10000',
    `--trusted-ca-file=${pki}/ca.crt`,
  ];
  return staticPod(
    'etcd',
    etcdImage(spec.version),
    command,
    [
      { name: 'etcd-certs', path: pki, type: 'DirectoryOrCreate' },
      { name: 'etcd-data', path: '/var/lib/etcd', type: 'DirectoryOrCreate' },
    ],
    {
      annotations: { 'kubeadm.kubernetes.io/etcd.advertise-client-urls': `https://${node.address}:2379` },
      cpu: '100m',
      memory: '100Mi',
      probeHost: node.address,
      probePath: '/health?exclude=NOSPACE&serializable=true',
      probePort: 2381,
      scheme: 'HTTP',
    },
  );
}

export function kubeApiserverManifest(spec: ClusterSpec, node: SimNodeSpec): string {
  const pki = '/etc/kubernetes/pki';
  const command = [
    'kube-apiserver',
    `--advertise-address=${node.address}`,
    '--allow-privileged=true',
    '--authorization-mode=Node,RBAC',
    `--client-ca-file=${pki}/ca.crt`,
    '--enable-admission-plugins=NodeRestriction',
    '--enable-bootstrap-token-auth=true',
    `--etcd-cafile=${pki}/etcd/ca.crt`,
    `--etcd-certfile=${pki}/apiserver-etcd-client.crt`,
    `--etcd-keyfile=${pki}/apiserver-etcd-client.key`,
    `--etcd-servers=https://${node.address}:2379`,
    `--kubelet-client-certificate=${pki}/apiserver-kubelet-client.crt`,
    `--kubelet-client-key=${pki}/apiserver-kubelet-client.key`,
    '--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname',
    `--proxy-client-cert-file=${pki}/front-proxy-client.crt`,
    `--proxy-client-key-file=${pki}/front-proxy-client.key`,
    '--requestheader-allowed-names=front-proxy-client',
    `--requestheader-client-ca-file=${pki}/front-proxy-ca.crt`,
    '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    '--requestheader-group-headers=X-Remote-Group',
    '--requestheader-username-headers=X-Remote-User',
    `--secure-port=${spec.apiServer.port}`,
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${pki}/sa.pub`,
    `--service-account-signing-key-file=${pki}/sa.key`,
    '--service-cluster-ip-range=10.96.0.0/12',
    `--tls-cert-file=${pki}/apiserver.crt`,
    `--tls-private-key-file=${pki}/apiserver.key`,
  ];
  return staticPod('kube-apiserver', `registry.k8s.io/kube-apiserver:v${spec.version}`, command, [CA_CERTS, K8S_CERTS], {
    annotations: { 'kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint': `${node.address}:${spec.apiServer.port}` },
    cpu: '250m',
    probeHost: node.address,
    probePath: '/livez',
    probePort: spec.apiServer.port,
    scheme: 'HTTPS',
  });
}

export function kubeControllerManagerManifest(spec: ClusterSpec): string {
  const pki = '/etc/kubernetes/pki';
  const conf = '/etc/kubernetes/controller-manager.conf';
  const command = [
    'kube-controller-manager',
    `--authentication-kubeconfig=${conf}`,
    `--authorization-kubeconfig=${conf}`,
    '--bind-address=127.0.0.1',
    `--client-ca-file=${pki}/ca.crt`,
    `--cluster-name=${spec.name}`,
    `--cluster-signing-cert-file=${pki}/ca.crt`,
    `--cluster-signing-key-file=${pki}/ca.key`,
    '--controllers=*,bootstrapsigner,tokencleaner',
    `--kubeconfig=${conf}`,
    '--leader-elect=true',
    `--requestheader-client-ca-file=${pki}/front-proxy-ca.crt`,
    `--root-ca-file=${pki}/ca.crt`,
    `--service-account-private-key-file=${pki}/sa.key`,
    '--use-service-account-credentials=true',
  ];
  return staticPod(
    'kube-controller-manager',
    `registry.k8s.io/kube-controller-manager:v${spec.version}`,
    command,
    [CA_CERTS, K8S_CERTS, { name: 'kubeconfig', path: conf, type: 'FileOrCreate', readOnly: true }],
    { cpu: '200m', probeHost: '127.0.0.1', probePath: '/healthz', probePort: 10257, scheme: 'HTTPS' },
  );
}

export function kubeSchedulerManifest(spec: ClusterSpec): string {
  const conf = '/etc/kubernetes/scheduler.conf';
  const command = [
    'kube-scheduler',
    `--authentication-kubeconfig=${conf}`,
    `--authorization-kubeconfig=${conf}`,
    '--bind-address=127.0.0.1',
    `--kubeconfig=${conf}`,
    '--leader-elect=true',
  ];
  return staticPod(
    'kube-scheduler',
    `registry.k8s.io/kube-scheduler:v${spec.version}`,
    command,
    [{ name: 'kubeconfig', path: conf, type: 'FileOrCreate', readOnly: true }],
    { cpu: '100m', probeHost: '127.0.0.1', probePath: '/healthz', probePort: 10259, scheme: 'HTTPS' },
  );
}

/** file name under /etc/kubernetes/manifests → content (a joining control plane gets etcd.yaml only once `up`
 * has added its member to the cluster: see etcd-join.ts) */
export function controlPlaneManifests(spec: ClusterSpec, node: SimNodeSpec): Record<string, string> {
  return {
    'etcd.yaml': etcdManifest(spec, node),
    'kube-apiserver.yaml': kubeApiserverManifest(spec, node),
    'kube-controller-manager.yaml': kubeControllerManagerManifest(spec),
    'kube-scheduler.yaml': kubeSchedulerManifest(spec),
  };
}
