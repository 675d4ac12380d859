// A node whose repository file already names the target minor while its package metadata does not know it (a
// repository switch cut short before its refresh): the repo-switch stage still runs, rewrites nothing, refreshes
// the metadata (dnf/yum: drop the cache; apt: the install's apt-get update), and the plan says so.
import { describe, expect, it } from 'vitest';
import { describeProcedure, nodeProcedure, stageInput } from '../../src/upgrade/procedure.ts';
import { runNode } from '../../src/upgrade/runner.ts';
import { STAGE_ORDER } from '../../src/upgrade/stages/index.ts';
import type { NodeFacts, NodeJob } from '../../src/upgrade/types.ts';
import { FakeCluster, Recorder, TARGET, nodeWorld, runnerDeps } from './fakes.ts';

const YUM_REPO = '/etc/yum.repos.d/kubernetes.repo';
const APT_LIST = '/etc/apt/sources.list.d/kubernetes.list';
const STALE = (path: string): NodeFacts => ({ repoFiles: [{ path, minors: ['1.31'] }], repoMetadataStale: true, cordonedBefore: false });
const job = (packageManager: NodeJob['packageManager']): NodeJob => ({
  name: 'worker-1',
  role: 'worker',
  packageManager,
  kubeadmAction: 'node',
  batch: 0,
});

describe('repo-switch after an interrupted switch', () => {
  it('dnf: drops the stale metadata before the install, rewrites nothing, and ends with the packages locked', async () => {
    const recorder = new Recorder();
    recorder.responders.push(nodeWorld(TARGET.version));
    const deps = runnerDeps(recorder, new FakeCluster(), { nodeFacts: () => STALE(YUM_REPO) });
    expect(await runNode({ job: job('dnf'), stages: [...STAGE_ORDER], doneBefore: [] }, deps, {})).toBe(true);
    const commands = recorder.commandsOf('worker-1');
    expect(commands.some((c) => c.startsWith('sed'))).toBe(false);
    // repo-switch drops it, and so does each install (an earlier run may have recorded repo-switch done)
    expect(commands.slice(0, 3)).toEqual([
      'dnf clean metadata',
      'dnf clean metadata',
      'dnf --setopt=skip_if_unavailable=True versionlock delete kubeadm',
    ]);
    expect(commands).toContain('dnf --setopt=skip_if_unavailable=True versionlock add kubelet kubectl');
  });

  it('dnf: drops the stale metadata before the install even when repo-switch is recorded done', async () => {
    const recorder = new Recorder();
    recorder.responders.push(nodeWorld(TARGET.version));
    const deps = runnerDeps(recorder, new FakeCluster(), { nodeFacts: () => STALE(YUM_REPO) });
    const stages = STAGE_ORDER.filter((s) => s !== 'repo-switch');
    expect(await runNode({ job: job('dnf'), stages, doneBefore: [] }, deps, {})).toBe(true);
    expect(recorder.commandsOf('worker-1')[0]).toBe('dnf clean metadata');
  });

  it('the plan shows the stage and why; a node whose lists know the target has no repo-switch', () => {
    const settings = {
      upgrade: { drain: runnerDeps(new Recorder(), new FakeCluster()).drain, nodeReadyTimeoutMs: 60_000, packageLockTimeoutMs: 120_000 },
      backup: { collectKubeadmBackups: false },
    } as unknown as Parameters<typeof stageInput>[3];
    const stale = describeProcedure(nodeProcedure(stageInput(job('apt'), TARGET, STALE(APT_LIST), settings)));
    expect(stale[0]!.id).toBe('repo-switch');
    expect(stale[0]!.actions.map((a) => a.text)).toEqual([
      expect.stringMatching(
        /already names v1\.31 but the node's package metadata does not list it .*the install's apt-get update refreshes the lists/,
      ),
      expect.stringMatching(/keyring stays/),
    ]);
    const fresh = describeProcedure(
      nodeProcedure(stageInput(job('apt'), TARGET, { repoFiles: [{ path: APT_LIST, minors: ['1.31'] }], cordonedBefore: false }, settings)),
    );
    expect(fresh.map((s) => s.id)).not.toContain('repo-switch');
  });
});
