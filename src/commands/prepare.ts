// The plan command's code, run by every changing command before it touches anything: the same reads, the
// same probes, the same buildPlan, so an upgrade never starts when plan would say blocked.
import type { KubeConfig } from '@kubernetes/client-node';
import { InputError, quoteValue, type InputProblem } from '../core/errors.ts';
import { checkInventoryAgainstCluster, inventoryFromCluster, parseInventory, type Inventory } from '../core/inventory.ts';
import { buildPlan } from '../core/plan.ts';
import type { Settings } from '../core/settings.ts';
import { kubeConfigFromText, kubeconfigPrograms, readCluster, type KubeconfigProgram } from '../adapters/cluster/read-cluster.ts';
import { probeNodes } from '../adapters/node/probe.ts';
import type { ShellOpener } from '../adapters/transport/open.ts';
import { privateKeyProblem } from '../adapters/transport/ssh.ts';
import { procedureDescriber } from '../upgrade/procedure.ts';
import type { PreparedPlan } from './deps.ts';

/** Everything that can be checked without a connection: the kubeconfig loads, the key parses, the inventory is valid. */
export function checkInputs(settings: Settings): { kubeconfig: KubeConfig; inventory?: Inventory } {
  if (!settings.kubeconfig) {
    throw new InputError([
      {
        input: 'kubeconfig',
        problem: `is empty, and command ${settings.command} works through the Kubernetes API`,
        fix: 'pass an admin kubeconfig from a secret: kubeconfig: ${{ secrets.KUBECONFIG }}',
      },
    ]);
  }
  let kubeconfig: KubeConfig;
  try {
    kubeconfig = kubeConfigFromText(settings.kubeconfig, undefined, settings.upgrade.apiRetryBudgetMs);
  } catch (error) {
    throw new InputError([
      {
        input: 'kubeconfig',
        problem: (error as Error).message,
        fix: 'pass the whole kubeconfig file (as kubectl uses it), with its certificates inline',
      },
    ]);
  }
  const programs = kubeconfigPrograms(kubeconfig).filter((p) => p.kind === 'auth-provider' || !settings.allowKubeconfigExec);
  if (programs.length > 0) throw new InputError(programs.map(programProblem));
  const keyProblem = settings.ssh.privateKey ? privateKeyProblem(settings.ssh.privateKey) : undefined;
  if (keyProblem)
    throw new InputError([
      {
        input: 'ssh-private-key',
        problem: keyProblem,
        fix: "pass an unencrypted OpenSSH or PEM private key file whose public key is in the nodes' authorized_keys",
      },
    ]);
  const inventory = settings.inventory ? parseInventory(settings.inventory.text, settings.inventory.source, settings) : undefined;
  return inventory ? { kubeconfig, inventory } : { kubeconfig };
}

/** Why a kubeconfig user that runs a program is refused, and what to do instead. */
function programProblem(program: KubeconfigProgram): InputProblem {
  if (program.kind === 'exec')
    return {
      input: 'kubeconfig',
      problem: `user ${program.user} runs an exec plugin (${quoteValue(program.what)}) on the runner to get its credentials, and allow-kubeconfig-exec is false`,
      fix:
        'set allow-kubeconfig-exec: true if you trust this kubeconfig to run that program on the runner (cloud kubeconfigs such as EKS, GKE and AKS need it, ' +
        'with the plugin installed by an earlier step), or pass a kubeconfig with a client certificate or token inline',
    };
  return {
    input: 'kubeconfig',
    problem: `user ${program.user} uses auth-provider ${program.what}, which runs a command line or fetches tokens on the runner; the Action never allows auth-provider`,
    fix: 'pass a kubeconfig with a client certificate or token inline, or switch the user to an exec credential plugin (e.g. gke-gcloud-auth-plugin, kubelogin) and set allow-kubeconfig-exec: true',
  };
}

export interface PrepareOptions {
  /** probe and plan only this node (the `node` command) */
  only?: string;
  /** plan even when the API cannot be reached (command plan reports it); changing commands refuse instead */
  tolerateUnreachableApi?: boolean;
}

export async function preparePlan(
  settings: Settings,
  checked: ReturnType<typeof checkInputs>,
  open: ShellOpener,
  log: (line: string) => void,
  options: PrepareOptions = {},
): Promise<PreparedPlan> {
  const { only } = options;
  const api = await readCluster(checked.kubeconfig, log);
  if (!api.apiReachable && !options.tolerateUnreachableApi) throw new Error(api.apiError ?? 'the Kubernetes API cannot be reached');
  const full = checked.inventory ?? inventoryFromCluster(api.nodes, settings);
  const problems = api.apiReachable ? checkInventoryAgainstCluster(full, api.nodes) : [];
  if (problems.length > 0) throw new InputError(problems);
  const inventory: Inventory = only ? { ...full, nodes: full.nodes.filter((n) => n.name === only) } : full;
  log(`Probing ${inventory.nodes.length} node(s), ${settings.parallelism} at a time (read-only commands)`);
  const nodeReports = await probeNodes(inventory.nodes, open, {
    parallelism: settings.parallelism,
    targetMinor: `${settings.target.major}.${settings.target.minor}`,
  });
  for (const report of nodeReports.filter((r) => !r.reachable)) log(`${report.name} could not be read: ${report.error ?? 'unreachable'}`);
  const state = { ...api, nodeReports };
  return { plan: buildPlan(state, settings, inventory, procedureDescriber(state, settings)), state, inventory };
}
