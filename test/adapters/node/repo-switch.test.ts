// The repository switch is one sed command per file: run the exact argv the stage builds against real files
// (the same sed the nodes run), and check that only the minor changes.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { switchRepoMinorCommand } from '../../../src/adapters/node/packages/manager.ts';

const APT_LINE = 'deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/v1.30/deb/ /\n';
const YUM_FILE =
  '[kubernetes]\nname=Kubernetes\nbaseurl=https://pkgs.k8s.io/core:/stable:/v1.30/rpm/\nenabled=1\ngpgcheck=1\ngpgkey=https://pkgs.k8s.io/core:/stable:/v1.30/rpm/repodata/repomd.xml.key\nexclude=kubelet kubeadm kubectl cri-tools kubernetes-cni\n';

function switched(content: string, minor: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'repo-switch-')), 'kubernetes.list');
  writeFileSync(file, content);
  const [program, ...args] = switchRepoMinorCommand(file, minor);
  execFileSync(program!, args);
  return readFileSync(file, 'utf8');
}

describe('switchRepoMinorCommand', () => {
  it('apt: only the minor changes; the keyring stays', () => {
    expect(switched(APT_LINE, '1.31')).toBe(APT_LINE.replace('/v1.30/', '/v1.31/'));
  });

  it('yum: baseurl and gpgkey move to the minor; exclude= stays', () => {
    expect(switched(YUM_FILE, '1.31')).toBe(YUM_FILE.replaceAll('/v1.30/', '/v1.31/'));
  });

  it('a two-digit minor after the back-reference is not read as \\11', () => {
    expect(switched(APT_LINE, '1.100')).toContain('/core:/stable:/v1.100/deb/');
  });

  it('other repositories in the same file are left alone', () => {
    const other = 'deb https://example.invalid/v1.2/ stable main\n';
    expect(switched(other + APT_LINE, '1.31')).toBe(other + APT_LINE.replace('/v1.30/', '/v1.31/'));
  });

  it('refuses a minor that is not one', () => {
    expect(() => switchRepoMinorCommand('/etc/apt/sources.list.d/kubernetes.list', '1.31; rm -rf /')).toThrow(/not a minor version/);
  });
});
