// The node probe: canned outputs of the real tools → NodeReport, and the commands it runs are read-only. The
// package managers' own parsers are tested with their implementations (packages-*.test.ts).
import { describe, expect, it } from 'vitest';
import { parseDfAvail, parseFactSections, parseKubeadmShortVersion, parseLogin } from '../../../src/adapters/node/probe-parse.ts';
import { probeNode, probeNodes } from '../../../src/adapters/node/probe.ts';
import type { CommandResult, NodeShell, RunOptions } from '../../../src/adapters/transport/node-shell.ts';

const MADISON = [
  '   kubeadm | 1.30.10-1.1 | https://pkgs.k8s.io/core:/stable:/v1.30/deb  Packages',
  '   kubeadm | 1.30.9-1.1 | https://pkgs.k8s.io/core:/stable:/v1.30/deb  Packages',
  '   kubeadm | 1.30.5-1.1 | https://pkgs.k8s.io/core:/stable:/v1.30/deb  Packages',
].join('\n');

const YUM_LIST = [
  'Last metadata expiration check: 0:00:12 ago on Mon 01 Sep 2026 10:00:00 AM UTC.',
  'Installed Packages',
  'kubeadm.x86_64                1.30.5-150500.1.1                @kubernetes',
  'Available Packages',
  'kubeadm.aarch64               1.30.4-150500.1.1                kubernetes',
  'kubeadm.x86_64                1.30.5-150500.1.1                kubernetes',
  'kubeadm.x86_64                1.30.10-150500.1.1               kubernetes',
].join('\n');

describe('probe output parsers', () => {
  it('splits the basic-facts output into its sections', () => {
    expect(parseFactSections('@@ tools\napt-get\n@@ repos\n@@ os\nPRETTY_NAME="X"\nID=x\n')).toEqual({
      tools: 'apt-get',
      repos: '',
      os: 'PRETTY_NAME="X"\nID=x\n',
    });
  });

  it("reads who logged in and whether that user's sudo works without a terminal or password", () => {
    expect(parseLogin('0\nroot\n')).toEqual({ user: 'root', root: true });
    expect(parseLogin('2000\nops\nsudo-ok\n')).toEqual({ user: 'ops', root: false });
    expect(parseLogin('2000\nops\nsudo: a password is required\n')).toEqual({
      user: 'ops',
      root: false,
      sudoRefused: 'sudo: a password is required',
    });
    expect(parseLogin('2000\nops\nsudo: sorry, you must have a tty to run sudo\n')?.sudoRefused).toBe(
      'sudo: sorry, you must have a tty to run sudo',
    );
    expect(parseLogin('2000\nops\n')?.sudoRefused).toBe('sudo -n true failed without a message');
    expect(parseLogin('')).toBeUndefined();
  });

  it('reads kubeadm version -o short and df output', () => {
    expect(parseKubeadmShortVersion('v1.30.5\n')).toBe('1.30.5');
    expect(parseKubeadmShortVersion('kubeadm: command not found')).toBeUndefined();
    expect(parseDfAvail('    Avail\n52613349376\n')).toBe(52613349376);
    expect(parseDfAvail('')).toBeUndefined();
  });
});

type Responder = (argv: readonly string[], opts: RunOptions) => Partial<CommandResult> | undefined;

/** A NodeShell that answers from a table and records what was run. */
class CannedShell implements NodeShell {
  readonly node: string;
  readonly ran: { argv: string[]; stdin?: string }[] = [];
  closed = false;
  readonly #respond: Responder;
  constructor(node: string, respond: Responder) {
    this.node = node;
    this.#respond = respond;
  }
  async run(argv: readonly string[], opts: RunOptions = {}): Promise<CommandResult> {
    this.ran.push({ argv: [...argv], ...(opts.stdin !== undefined ? { stdin: opts.stdin } : {}) });
    const answer = this.#respond(argv, opts);
    return { code: answer ? (answer.code ?? 0) : 127, stdout: answer?.stdout ?? '', stderr: answer?.stderr ?? '' };
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

const SOURCES = 'deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/v1.30/deb/ /\n';

/** What the basic-facts script prints: `@@ name` sections. */
function basicFacts(sections: Record<string, string>): string {
  return Object.entries(sections)
    .map(([name, body]) => `@@ ${name}\n${body}`)
    .join('\n');
}

function debianNode(swap = false, login = '0\nroot'): Responder {
  return (argv) => {
    const line = argv.join(' ');
    if (argv[0] === 'sh' && argv[2]?.includes('@@ tools')) {
      return {
        stdout: basicFacts({
          login,
          tools: 'apt-get',
          repos: `/etc/apt/sources.list.d/kubernetes.list:${SOURCES}`,
          os: 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"',
          swap: swap ? '/swapfile file 2G 0B -2' : '',
          'df-etcd': 'Avail\n1000',
          'df-kubernetes': 'Avail\n2000',
          identity: 'none',
          'machine-id': '0123456789abcdef0123456789abcdef',
        }),
      };
    }
    if (argv[0] === 'sh' && argv[2]?.includes('k.list')) return {};
    if (argv[0] === 'dpkg-query') return { stdout: 'kubeadm\t1.30.5-1.1\nkubelet\t1.30.5-1.1\nkubectl\t1.30.5-1.1\n' };
    if (line === 'apt-mark showhold') return { stdout: 'kubeadm\nkubelet\nkubectl\n' };
    if (line === 'apt-cache madison kubeadm') return { stdout: MADISON };
    if (line === 'mktemp -d') return { stdout: '/tmp/tmp.Xy12\n' };
    if (argv[0] === 'rm') return {};
    if (argv[0] === 'apt-get' && argv.at(-1) === 'update') return { stdout: 'Reading package lists...' };
    if (argv[0] === 'apt-cache' && argv.at(-1) === 'kubeadm') {
      return {
        stdout:
          '   kubeadm | 1.31.2-1.1 | https://pkgs.k8s.io/core:/stable:/v1.31/deb  Packages\n   kubeadm | 1.31.0-1.1 | https://pkgs.k8s.io/core:/stable:/v1.31/deb  Packages\n',
      };
    }
    if (line === 'kubeadm version -o short') return { stdout: 'v1.30.5\n' };
    return undefined;
  };
}

describe('probeNode', () => {
  it('reports a Debian node, reading the target minor into a temporary directory it removes', async () => {
    const shell = new CannedShell('cp-1', debianNode(true));
    const report = await probeNode(shell, '1.31');
    expect(report).toEqual({
      name: 'cp-1',
      reachable: true,
      packageManager: 'apt',
      os: 'Debian GNU/Linux 12 (bookworm)',
      kubeadmVersion: '1.30.5',
      kubeletVersion: '1.30.5',
      kubectlVersion: '1.30.5',
      packages: { kubeadm: '1.30.5-1.1', kubelet: '1.30.5-1.1', kubectl: '1.30.5-1.1' },
      holds: ['kubeadm', 'kubelet', 'kubectl'],
      repoMinor: '1.30',
      repoFiles: [{ path: '/etc/apt/sources.list.d/kubernetes.list', minors: ['1.30'] }],
      publishedInRepo: ['1.30.5', '1.30.9', '1.30.10'],
      publishedInTargetMinor: ['1.31.0', '1.31.2'],
      publishedPackageVersions: {
        '1.30.5': '1.30.5-1.1',
        '1.30.9': '1.30.9-1.1',
        '1.30.10': '1.30.10-1.1',
        '1.31.0': '1.31.0-1.1',
        '1.31.2': '1.31.2-1.1',
      },
      swapOn: true,
      login: { user: 'root', root: true },
      freeBytes: { etcd: 1000, kubernetes: 2000 },
      identity: {
        certificateProblem: '/etc/kubernetes/kubelet.conf could not be read or names no client certificate',
        machineId: '0123456789abcdef0123456789abcdef',
      },
    });
    const prepare = shell.ran.find((r) => r.argv[0] === 'sh' && r.argv[2]?.includes('k.list'));
    // the temporary directory goes in as "$1", never into the script text
    expect(prepare).toEqual({
      argv: ['sh', '-c', expect.not.stringContaining('/tmp/tmp.Xy12'), 'sh', '/tmp/tmp.Xy12'],
      stdin: SOURCES.replace('v1.30', 'v1.31'),
    });
    const update = shell.ran.find((r) => r.argv.at(-1) === 'update')!.argv;
    expect(update).toEqual(
      expect.arrayContaining([
        'Dir::Etc::sourceparts=-',
        'Dir::State::Lists=/tmp/tmp.Xy12/lists',
        'Dir::Etc::sourcelist=/tmp/tmp.Xy12/k.list',
      ]),
    );
    expect(shell.ran.some((r) => r.argv.join(' ') === 'rm -rf -- /tmp/tmp.Xy12')).toBe(true);
    // the only commands that write are the temporary directory's, and they name only it
    const writers = shell.ran.filter((r) => ['rm', 'mkdir', 'tee', 'cp', 'mv'].includes(r.argv[0]!) || r.argv.at(-1) === 'update');
    for (const { argv } of writers) expect(argv.filter((a) => a.startsWith('/')).every((a) => a.startsWith('/tmp/tmp.Xy12'))).toBe(true);
  });

  it('asks sudo -n (no terminal, no password) whether a user other than root gets root, with sbin on its PATH', async () => {
    const shell = new CannedShell('w-1', debianNode(false, '2000\nops\nsudo: a password is required'));
    const report = await probeNode(shell, '1.30');
    expect(report.login).toEqual({ user: 'ops', root: false, sudoRefused: 'sudo: a password is required' });
    const script = shell.ran[0]!.argv[2]!;
    expect(script).toContain('sudo -n true </dev/null');
    // swapon is in /usr/sbin, which a user other than root does not have on its PATH
    expect(script.indexOf('PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"')).toBeLessThan(script.indexOf('swapon'));
  });

  it('reuses the configured repository when the target minor is the configured one', async () => {
    const shell = new CannedShell('w-1', debianNode());
    const report = await probeNode(shell, '1.30');
    expect(report.publishedInTargetMinor).toEqual(['1.30.5', '1.30.9', '1.30.10']);
    expect(shell.ran.some((r) => r.argv[0] === 'mktemp')).toBe(false);
  });

  it('reads the target minor aside when the repository file names it but the lists predate the switch (an interrupted switch)', async () => {
    const base = debianNode();
    /** the file rewritten to v1.31; `madison` is what the node's own lists say */
    const switched =
      (madison: string): Responder =>
      (argv, opts) => {
        if (argv[0] === 'sh' && argv[2]?.includes('@@ tools')) return { stdout: base(argv, opts)!.stdout!.replace('/v1.30/', '/v1.31/') };
        if (argv.join(' ') === 'apt-cache madison kubeadm') return { stdout: madison };
        return base(argv, opts);
      };
    // the lists were not refreshed since the rewrite: they still list only 1.30
    const shell = new CannedShell('cp-1', switched(MADISON));
    const report = await probeNode(shell, '1.31');
    expect(report.repoMinor).toBe('1.31');
    expect(report.repoMetadataStale).toBe(true);
    expect(report.publishedInTargetMinor).toEqual(['1.31.0', '1.31.2']);
    expect(report.publishedPackageVersions?.['1.31.2']).toBe('1.31.2-1.1');
    // read aside: only the temporary directory is written
    expect(shell.ran.some((r) => r.argv.join(' ') === 'rm -rf -- /tmp/tmp.Xy12')).toBe(true);
    const writers = shell.ran.filter((r) => ['rm', 'mkdir', 'tee', 'cp', 'mv'].includes(r.argv[0]!) || r.argv.at(-1) === 'update');
    for (const { argv } of writers) expect(argv.filter((a) => a.startsWith('/')).every((a) => a.startsWith('/tmp/tmp.Xy12'))).toBe(true);

    // lists that know the target minor are used as they are
    const fresh = new CannedShell('cp-1', switched('   kubeadm | 1.31.2-1.1 | https://pkgs.k8s.io/core:/stable:/v1.31/deb  Packages\n'));
    const freshReport = await probeNode(fresh, '1.31');
    expect(freshReport.repoMetadataStale).toBeUndefined();
    expect(freshReport.publishedInTargetMinor).toEqual(['1.31.2']);
    expect(fresh.ran.some((r) => r.argv[0] === 'mktemp')).toBe(false);
  });

  it('leaves the target minor unknown when its index cannot be read, and still cleans up', async () => {
    const base = debianNode();
    const shell = new CannedShell('w-1', (argv, opts) =>
      argv[0] === 'apt-get' ? { code: 100, stderr: 'E: Failed to fetch' } : base(argv, opts),
    );
    const report = await probeNode(shell, '1.31');
    expect(report.publishedInTargetMinor).toBeUndefined();
    expect(shell.ran.some((r) => r.argv.join(' ') === 'rm -rf -- /tmp/tmp.Xy12')).toBe(true);
  });

  it('reports a RHEL node through dnf, listing the target repository with --repofrompath', async () => {
    const shell = new CannedShell('w-2', (argv) => {
      const line = argv.join(' ');
      if (argv[0] === 'sh') {
        return {
          stdout: basicFacts({
            tools: 'apt-get\ndnf\nyum',
            repos: '/etc/yum.repos.d/kubernetes.repo:baseurl=https://pkgs.k8s.io/core:/stable:/v1.30/rpm/',
            swap: '',
            'df-etcd': '',
            'df-kubernetes': '',
          }),
        };
      }
      if (argv[0] === 'rpm')
        return { stdout: 'kubeadm\t1.30.5-150500.1.1\nkubelet\t1.30.5-150500.1.1\npackage kubectl is not installed\n' };
      if (line === 'dnf --setopt=skip_if_unavailable=True versionlock list') return { stdout: 'kubelet-0:1.30.5-150500.1.1.*\n' };
      if (argv[0] === 'dnf' && argv.includes('--repofrompath=kubernetes-target,https://pkgs.k8s.io/core:/stable:/v1.31/rpm/')) {
        return {
          stdout:
            'Installed Packages\nkubeadm.x86_64  1.30.5-150500.1.1  @kubernetes\nAvailable Packages\nkubeadm.x86_64  1.31.1-150500.1.1  kubernetes-target\n',
        };
      }
      if (argv[0] === 'dnf') return { stdout: YUM_LIST };
      if (line === 'mktemp -d') return { stdout: '/tmp/tmp.r\n' };
      if (argv[0] === 'rm') return {};
      return undefined;
    });
    const report = await probeNode(shell, '1.31');
    expect(report).toMatchObject({
      packageManager: 'dnf',
      repoMinor: '1.30',
      kubeadmVersion: '1.30.5',
      kubectlVersion: undefined,
      holds: ['kubelet'],
      publishedInRepo: ['1.30.4', '1.30.5', '1.30.10'],
      publishedInTargetMinor: ['1.31.1'],
      publishedPackageVersions: expect.objectContaining({ '1.30.10': '1.30.10-150500.1.1', '1.31.1': '1.31.1-150500.1.1' }),
      swapOn: false,
      freeBytes: { etcd: undefined, kubernetes: undefined },
    });
    expect(
      shell.ran.find((r) => r.argv.includes('--repofrompath=kubernetes-target,https://pkgs.k8s.io/core:/stable:/v1.31/rpm/'))?.argv,
    ).toContain('--setopt=cachedir=/tmp/tmp.r');
  });
});

describe('probeNodes', () => {
  it('turns a node that cannot be reached into reachable:false with the reason, and closes every shell', async () => {
    const shells: CannedShell[] = [];
    const reports = await probeNodes(
      [{ name: 'cp-1' }, { name: 'w-9' }, { name: 'w-1' }],
      async (node) => {
        if (node.name === 'w-9') throw new Error('cannot connect to node w-9 (root@10.0.0.99:22): connect ECONNREFUSED');
        const shell = new CannedShell(node.name, debianNode());
        shells.push(shell);
        return shell;
      },
      { parallelism: 2, targetMinor: '1.30' },
    );
    expect(reports.map((r) => [r.name, r.reachable])).toEqual([
      ['cp-1', true],
      ['w-9', false],
      ['w-1', true],
    ]);
    expect(reports[1]?.error).toContain('10.0.0.99:22');
    expect(shells.every((s) => s.closed)).toBe(true);
  });

  it('never has more than `parallelism` nodes open at once', async () => {
    let open = 0;
    let most = 0;
    const nodes = Array.from({ length: 12 }, (_, i) => ({ name: `w-${i}` }));
    await probeNodes(
      nodes,
      async (node) => {
        open++;
        most = Math.max(most, open);
        const shell = new CannedShell(node.name, debianNode());
        const close = shell.close.bind(shell);
        shell.close = async () => {
          open--;
          await close();
        };
        return shell;
      },
      { parallelism: 3, targetMinor: '1.30' },
    );
    expect(most).toBe(3);
  });
});
