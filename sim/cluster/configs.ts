// Text of the configuration files kubeadm and the package setup leave on a node, and of kubeadm's
// ClusterConfiguration (the kubeadm-config ConfigMap).
import { stringify } from 'yaml';
import type { ClusterSpec, SimNodeSpec } from '../node/spec.ts';
import { minorOf, parseVersion } from './versions.ts';

export function clusterConfigurationYaml(spec: ClusterSpec): string {
  const v1beta4 = parseVersion(spec.version).minor >= 31;
  return stringify({
    apiServer: v1beta4 ? {} : { timeoutForControlPlane: '4m0s' },
    apiVersion: v1beta4 ? 'kubeadm.k8s.io/v1beta4' : 'kubeadm.k8s.io/v1beta3',
    ...(v1beta4 ? { caCertificateValidityPeriod: '87600h0m0s', certificateValidityPeriod: '8760h0m0s' } : {}),
    certificatesDir: '/etc/kubernetes/pki',
    clusterName: spec.name,
    controlPlaneEndpoint: `${spec.apiServer.address}:${spec.apiServer.port}`,
    controllerManager: {},
    dns: {},
    ...(v1beta4 ? { encryptionAlgorithm: 'ECDSA-P256' } : {}),
    etcd: { local: { dataDir: '/var/lib/etcd' } },
    imageRepository: 'registry.k8s.io',
    kind: 'ClusterConfiguration',
    kubernetesVersion: `v${spec.version}`,
    networking: { dnsDomain: 'cluster.local', podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/12' },
    proxy: {},
    scheduler: {},
  });
}

/** KubeletConfiguration as kubeadm writes /var/lib/kubelet/config.yaml and the kubelet-config ConfigMap. */
export function kubeletConfigurationYaml(): string {
  return stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    authentication: {
      anonymous: { enabled: false },
      webhook: { cacheTTL: '0s', enabled: true },
      x509: { clientCAFile: '/etc/kubernetes/pki/ca.crt' },
    },
    authorization: { mode: 'Webhook', webhook: { cacheAuthorizedTTL: '0s', cacheUnauthorizedTTL: '0s' } },
    cgroupDriver: 'systemd',
    clusterDNS: ['10.96.0.10'],
    clusterDomain: 'cluster.local',
    containerRuntimeEndpoint: '',
    healthzBindAddress: '127.0.0.1',
    healthzPort: 10248,
    kind: 'KubeletConfiguration',
    logging: { flushFrequency: 0, options: { json: { infoBufferSize: '0' } }, verbosity: 0 },
    memorySwap: {},
    resolvConf: '/run/systemd/resolve/resolv.conf',
    rotateCertificates: true,
    runtimeRequestTimeout: '0s',
    staticPodPath: '/etc/kubernetes/manifests',
  });
}

export function kubeadmFlagsEnv(): string {
  return (
    'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock ' +
    '--pod-infra-container-image=registry.k8s.io/pause:3.9"\n'
  );
}

const pkgsBase = (minor: string) => `https://pkgs.k8s.io/core:/stable:/v${minor}`;

/** Path under the node's / and content of its package repository file. */
export function repoFile(node: Pick<SimNodeSpec, 'os' | 'version'>): { path: string; text: string } {
  const minor = minorOf(node.version);
  if (node.os === 'debian') {
    return {
      path: 'etc/apt/sources.list.d/kubernetes.list',
      text: `deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] ${pkgsBase(minor)}/deb/ /\n`,
    };
  }
  return {
    path: 'etc/yum.repos.d/kubernetes.repo',
    text: [
      '[kubernetes]',
      'name=Kubernetes',
      `baseurl=${pkgsBase(minor)}/rpm/`,
      'enabled=1',
      'gpgcheck=1',
      `gpgkey=${pkgsBase(minor)}/rpm/repodata/repomd.xml.key`,
      'exclude=kubelet kubeadm kubectl cri-tools kubernetes-cni',
      '',
    ].join('\n'),
  };
}
