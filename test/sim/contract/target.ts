// Which API server the contract suite talks to: the simulator's standalone API server by default, or a
// real cluster when CONTRACT_KUBECONFIG names a kubeconfig file. The tests are the same for both.
import { existsSync, readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';

export type TargetKind = 'simulator' | 'cluster';

export interface ContractTarget {
  kubeconfig: KubeConfig;
  kind: TargetKind;
  /** true when something finishes deletions and starts pods (a kubelet, or the simulator playing one) */
  kubelet: boolean;
  close(): Promise<void>;
}

/** Known when the test files are collected, so `it.skipIf(!kubeletAvailable)` can use it. */
export const kubeletAvailable: boolean = process.env.CONTRACT_NO_KUBELET !== '1';

export async function openContractTarget(): Promise<ContractTarget> {
  const file = process.env.CONTRACT_KUBECONFIG;
  if (file) return openCluster(file);
  return openSimulator();
}

function openCluster(file: string): ContractTarget {
  if (!existsSync(file)) throw new Error(`CONTRACT_KUBECONFIG=${file}: no such file`);
  const kubeconfig = new KubeConfig();
  kubeconfig.loadFromString(readFileSync(file, 'utf8'));
  return { kubeconfig, kind: 'cluster', kubelet: kubeletAvailable, close: async () => {} };
}

async function openSimulator(): Promise<ContractTarget> {
  // Loaded only here, so a run against a real cluster never starts simulator code.
  const { startStandaloneApiServer } = await import('../../../sim/apiserver/standalone.ts');
  const server = await startStandaloneApiServer();
  const kubeconfig = new KubeConfig();
  kubeconfig.loadFromString(server.kubeconfigText);
  return { kubeconfig, kind: 'simulator', kubelet: kubeletAvailable, close: () => server.close() };
}
