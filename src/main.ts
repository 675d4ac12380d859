import * as core from '@actions/core';
import * as k8s from '@kubernetes/client-node';
import { Client } from 'ssh2';
import YAML from 'yaml';

/** Runs the Action's main or post step. Every failure ends as a failed step with a clear message. */
export async function run(): Promise<void> {
  try {
    const kc = new k8s.KubeConfig();
    core.info(`kubeadm-upgrade-action ${typeof kc.makeApiClient} ${typeof Client} ${YAML.stringify({ a: 1 })}`);
    if (process.env.INPUT_KUBECONFIG) {
      kc.loadFromString(process.env.INPUT_KUBECONFIG);
      const v = await kc.makeApiClient(k8s.VersionApi).getCode();
      core.info(`server ${v.gitVersion}`);
    }
  } catch (error) {
    core.setFailed(error instanceof Error ? error.message : String(error));
  }
}
