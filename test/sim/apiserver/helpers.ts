// Shared test helpers: a standalone API server with a kube-rest client, and polling.
import { startStandaloneApiServer, type StandaloneApiServer, type StandaloneOptions } from '../../../sim/apiserver/standalone.ts';
import { createKubeClient, loadKubeconfig, type KubeClient } from '../../../sim/lib/kube-rest.ts';

export interface TestCluster {
  server: StandaloneApiServer;
  kube: KubeClient;
  close(): Promise<void>;
}

export async function startTestCluster(options: StandaloneOptions = {}): Promise<TestCluster> {
  const server = await startStandaloneApiServer({ delays: { podStartMs: 100 }, ...options });
  const kube = createKubeClient(loadKubeconfig(server.kubeconfigPath));
  return {
    server,
    kube,
    close: async () => {
      kube.close();
      await server.close();
    },
  };
}

/** Polls fn until it returns a truthy value (returned) or the timeout passes (throws with the last value). */
export async function eventually<T>(
  fn: () => Promise<T> | T,
  what: string,
  timeoutMs = 10_000,
): Promise<Exclude<T, undefined | null | false>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    last = await fn();
    if (last) return last as Exclude<T, undefined | null | false>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function deploymentBody(name: string, replicas: number, image = 'nginx:1.25', grace = 1): object {
  return {
    metadata: { name, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: grace,
          containers: [{ name: 'main', image, resources: { requests: { cpu: '100m', memory: '64Mi' } } }],
        },
      },
    },
  };
}

export function nodeBody(name: string, ready = true, extra: { labels?: Record<string, string>; taints?: object[] } = {}): object {
  return {
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', ...extra.labels } },
    spec: extra.taints ? { taints: extra.taints } : {},
    status: {
      capacity: { cpu: '2', memory: '4Gi', pods: '110' },
      allocatable: { cpu: '2', memory: '4Gi', pods: '110' },
      conditions: [
        {
          type: 'Ready',
          status: ready ? 'True' : 'False',
          reason: 'KubeletReady',
          lastHeartbeatTime: new Date().toISOString().replace(/\.\d+Z/, 'Z'),
        },
      ],
      addresses: [
        { type: 'InternalIP', address: '127.0.0.9' },
        { type: 'Hostname', address: name },
      ],
      nodeInfo: {
        kubeletVersion: 'v1.30.5',
        osImage: 'Debian GNU/Linux 12 (bookworm)',
        kernelVersion: '6.1.0',
        containerRuntimeVersion: 'containerd://1.7.22',
      },
    },
  };
}
