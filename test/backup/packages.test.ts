// Rollback's package step on one node, with canned tool output: the node's own package manager is chosen once,
// the repository file goes back first, then its downgrade steps run as root, a versionlock it must move past
// included. No simulator: the end-to-end proof is test/e2e/rollback-mixed.test.ts.
import { describe, expect, it } from 'vitest';
import { downgradePackages } from '../../src/backup/packages.ts';
import type { PackageVersions } from '../../src/backup/types.ts';
import type { CommandResult, NodeShell, RunOptions } from '../../src/adapters/transport/node-shell.ts';

type Answer = Partial<CommandResult> | undefined;

class CannedShell implements NodeShell {
  readonly node = 'worker-1';
  readonly ran: { line: string; sudo: boolean; stdin?: string }[] = [];
  readonly #answer: (line: string, argv: readonly string[]) => Answer;
  constructor(answer: (line: string, argv: readonly string[]) => Answer) {
    this.#answer = answer;
  }
  async run(argv: readonly string[], opts: RunOptions = {}): Promise<CommandResult> {
    const line = argv.join(' ');
    this.ran.push({ line, sudo: opts.sudo === true, ...(opts.stdin !== undefined ? { stdin: opts.stdin } : {}) });
    const a = this.#answer(line, argv);
    return { code: a ? (a.code ?? 0) : 127, stdout: a?.stdout ?? '', stderr: a?.stderr ?? '' };
  }
  async close(): Promise<void> {}
}

const REPO_31 = '[kubernetes]\nbaseurl=https://pkgs.k8s.io/core:/stable:/v1.31/rpm/\nexclude=kubelet kubeadm kubectl\n';
const REPO_30 = REPO_31.replace('v1.31', 'v1.30');
const RECORDED: PackageVersions = {
  manager: 'rpm',
  packages: { kubeadm: '1.30.5-150500.1.1', kubelet: '1.30.5-150500.1.1', kubectl: '1.30.5-150500.1.1' },
  repoFile: { path: '/etc/yum.repos.d/kubernetes.repo', content: REPO_30 },
};

/** An EL node the upgrade left at 1.31.4, versionlocked there, with dnf and yum (and a stray apt-get) on PATH. */
function upgradedRhelNode(extra: (line: string) => Answer = () => undefined) {
  return (line: string, argv: readonly string[]): Answer => {
    const special = extra(line);
    if (special) return special;
    if (argv[0] === 'sh' && argv[2]?.includes('@@ tools'))
      return {
        stdout: `@@ tools\napt-get\ndnf\nyum\n@@ repos\n/etc/yum.repos.d/kubernetes.repo:baseurl=https://pkgs.k8s.io/core:/stable:/v1.31/rpm/\n`,
      };
    if (argv[0] === 'grep') return { stdout: '/etc/yum.repos.d/kubernetes.repo\n' };
    if (line === 'cat -- /etc/yum.repos.d/kubernetes.repo') return { stdout: REPO_31 };
    if (argv[0] === 'rpm') return { stdout: 'kubeadm\t1.31.4-150500.1.1\nkubelet\t1.31.4-150500.1.1\nkubectl\t1.31.4-150500.1.1\n' };
    if (argv[0] === 'sh' && argv.at(-1) === '/etc/yum.repos.d/kubernetes.repo') return {};
    if (argv[0] === 'dnf') return { stdout: 'ok\n' };
    return undefined;
  };
}

describe('downgradePackages on a dnf node', () => {
  it("restores the repository file, deletes the upgrade's versionlock, downgrades with dnf, locks again", async () => {
    const shell = new CannedShell(upgradedRhelNode());
    const changes = await downgradePackages(shell, RECORDED, 120);
    expect(changes).toEqual([
      'kubeadm 1.31.4-150500.1.1 → 1.30.5-150500.1.1',
      'kubelet 1.31.4-150500.1.1 → 1.30.5-150500.1.1',
      'kubectl 1.31.4-150500.1.1 → 1.30.5-150500.1.1',
    ]);
    const changing = shell.ran.filter((r) => /^(dnf|yum|sh -c cat)/.test(r.line));
    expect(changing.map((r) => r.line)).toEqual([
      'sh -c cat > "$1" sh /etc/yum.repos.d/kubernetes.repo',
      'dnf --setopt=skip_if_unavailable=True versionlock delete kubeadm kubelet kubectl',
      'dnf clean metadata',
      'dnf downgrade -y --setopt=skip_if_unavailable=True kubeadm-1.30.5-150500.1.1 kubelet-1.30.5-150500.1.1 kubectl-1.30.5-150500.1.1 --disableexcludes=kubernetes',
      'dnf --setopt=skip_if_unavailable=True versionlock add kubeadm kubelet kubectl',
    ]);
    expect(changing[0]?.stdin).toBe(REPO_30);
    expect(shell.ran.every((r) => r.sudo)).toBe(true);
    // chosen once: one detection for the whole step
    expect(shell.ran.filter((r) => r.line.includes('@@ tools'))).toHaveLength(1);
  });

  it('goes on when there was no versionlock to delete, and stops naming the command when the downgrade fails', async () => {
    const unlocked = new CannedShell(
      upgradedRhelNode((line) =>
        line.startsWith('dnf --setopt=skip_if_unavailable=True versionlock delete')
          ? { code: 1, stderr: 'Error: No package found for: kubeadm\n' }
          : undefined,
      ),
    );
    await expect(downgradePackages(unlocked, RECORDED, 120)).resolves.toHaveLength(3);
    const failing = new CannedShell(
      upgradedRhelNode((line) =>
        line.startsWith('dnf downgrade')
          ? {
              code: 1,
              stderr:
                'All matches were filtered out by exclude filtering for argument: kubeadm-1.30.5-150500.1.1\nError: Unable to find a match\n',
            }
          : undefined,
      ),
    );
    await expect(downgradePackages(failing, RECORDED, 120)).rejects.toThrow(
      /installing the recorded package versions \(`dnf downgrade -y --setopt=skip_if_unavailable=True kubeadm-1\.30\.5-150500\.1\.1 .*`\) on worker-1 failed \(exit 1\): All matches were filtered out/,
    );
    expect(failing.ran.some((r) => r.line.startsWith('dnf --setopt=skip_if_unavailable=True versionlock add'))).toBe(false);
  });

  it("refuses when the node's package family is not the one the backup recorded", async () => {
    const shell = new CannedShell(upgradedRhelNode());
    await expect(downgradePackages(shell, { ...RECORDED, manager: 'apt' }, 120)).rejects.toThrow(
      /recorded apt packages, but the node's package manager is dnf/,
    );
    expect(shell.ran.some((r) => r.line.startsWith('dnf downgrade') || r.line.startsWith('apt-get'))).toBe(false);
  });
});
