// `npm run demo`: brings a simulated 3 + 6 kubeadm cluster up with the demo workload, shows it the way a
// person would look at it (kubectl, status, ssh), and takes it down again.
import { spawnSync } from 'node:child_process';
import { startCluster, type SimCluster } from '../test/sim/index.ts';

function show(title: string, file: string, args: string[]): void {
  console.log(`\n$ ${title}`);
  const result = spawnSync(file, args, { encoding: 'utf8' });
  process.stdout.write(result.stdout);
  if (result.status !== 0) throw new Error(`${title} failed (exit ${result.status}): ${result.stderr.trim()}`);
}

async function tour(cluster: SimCluster): Promise<void> {
  console.log(`cluster in ${cluster.dir}; API server ${cluster.spec.apiServer.url}`);
  show('kubectl get nodes -o wide', '/usr/bin/kubectl', ['--kubeconfig', cluster.kubeconfigPath, 'get', 'nodes', '-o', 'wide']);
  show('kubectl get pods -n demo -o wide', '/usr/bin/kubectl', ['--kubeconfig', cluster.kubeconfigPath, 'get', 'pods', '-n', 'demo', '-o', 'wide']);

  const status = await cluster.status();
  console.log('\nstatus:');
  for (const node of status.nodes) {
    console.log(`  ${node.name.padEnd(9)} ${node.role.padEnd(13)} ${node.address.padEnd(16)} ready=${node.ready} ` +
      `kubelet=${node.kubeletVersion} packages=${node.packages?.kubeadm} repo=v${node.repoMinor} holds=${node.holds.join(',')}`);
  }
  console.log(`  workloads: ${JSON.stringify(status.workloads)}`);

  const node = cluster.spec.nodes[0];
  if (!node) throw new Error('the cluster has no SSH node');
  show(`ssh root@${node.address} kubeadm version -o short`, 'ssh', ['-i', cluster.sshKeyPath, '-o', 'StrictHostKeyChecking=yes',
    '-o', `UserKnownHostsFile=${cluster.knownHostsPath}`, '-o', 'BatchMode=yes', `root@${node.address}`, 'kubeadm version -o short']);
}

const started = Date.now();
const cluster = await startCluster({ controlPlanes: 3, workers: 6, workload: 'demo' });
console.log(`up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
let failed = false;
try {
  await tour(cluster);
} catch (err) {
  failed = true;
  console.error(`demo: ${(err as Error).message}`);
} finally {
  const report = await cluster.stop();
  console.log(`\ndown: stopped ${report.stopped.length} processes; nothing of ${cluster.dir} runs or is mounted`);
}
process.exit(failed ? 1 : 0);
