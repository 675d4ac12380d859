// Which exact package version an install uses: the plan's revision when it has one (no listing on the node),
// else the revision the node's repository lists right before the install; the log line says which.
import { describe, expect, it } from 'vitest';
import { chooseInstallVersion, installCommand } from '../../src/upgrade/node-ops/packages.ts';

const MADISON = '   kubeadm | 1.31.4-1.1 | https://pkgs.k8s.io/core:/stable:/v1.31/deb  Packages\n   kubeadm | 1.31.3-1.1 | https://pkgs.k8s.io/core:/stable:/v1.31/deb  Packages\n';
const YUM = 'Available Packages\nkubeadm.x86_64   1.31.3-150500.1.1   kubernetes\nkubeadm.x86_64   1.31.4-150500.1.1   kubernetes\n';

function listing(stdout: string) {
  const calls: number[] = [];
  return { calls, list: async () => (calls.push(1), stdout) };
}

describe('chooseInstallVersion', () => {
  it('uses the plan\'s revision and does not list the repository', async () => {
    const node = listing(MADISON);
    const choice = await chooseInstallVersion('apt', 'kubeadm', '1.31.4', { apt: '1.31.4-1.1' }, node.list);
    expect(choice).toEqual({ version: '1.31.4-1.1', source: 'plan', note: expect.stringMatching(/1\.31\.4-1\.1: the plan's revision for apt/) });
    expect(node.calls).toHaveLength(0);
    expect(installCommand('apt', ['kubeadm'], choice.version)).toEqual(['apt-get', 'install', '-y', '--allow-change-held-packages', 'kubeadm=1.31.4-1.1']);
  });

  it('gives a dnf node the rpm revision the plan resolved for yum', async () => {
    const node = listing(YUM);
    const choice = await chooseInstallVersion('dnf', 'kubelet', '1.31.4', { yum: '1.31.4-150500.1.1' }, node.list);
    expect(choice).toMatchObject({ version: '1.31.4-150500.1.1', source: 'plan' });
    expect(node.calls).toHaveLength(0);
  });

  it('falls back to the node\'s listing when the plan has no revision for its package manager, and says so', async () => {
    const node = listing(YUM);
    const choice = await chooseInstallVersion('yum', 'kubeadm', '1.31.4', { apt: '1.31.4-1.1' }, node.list);
    expect(choice).toEqual({ version: '1.31.4-150500.1.1', source: 'node', note: expect.stringMatching(/read from the node's repository just now \(`yum list --showduplicates --disableexcludes=kubernetes kubeadm`\), as the plan has no exact revision for yum/) });
    expect(node.calls).toHaveLength(1);
  });

  it('refuses to install an unpinned version when neither the plan nor the node lists the target', async () => {
    await expect(chooseInstallVersion('apt', 'kubeadm', '1.31.9', {}, listing(MADISON).list)).rejects.toThrow(/kubeadm 1\.31\.9 is not offered by the package repository \(`apt-cache madison kubeadm` lists no 1\.31\.9-\* revision\)/);
  });
});
