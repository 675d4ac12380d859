// The bundle's input handling and failure paths, run as the runner runs it, without a cluster: bad inputs
// fail before any connection, secrets are masked, an unreachable API is reported in the summary.
import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBundle, runAction } from '../support/action-runner.ts';
import { startGitHubApi } from '../support/github-api.ts';

let bundle: string;
beforeAll(async () => {
  bundle = await buildBundle();
}, 180_000);

// Port 1 on loopback: nothing listens there, so "connecting" fails at once and visibly.
const kubeconfig = [
  'apiVersion: v1',
  'kind: Config',
  'clusters: [{ name: c, cluster: { server: "https://127.0.0.1:1", insecure-skip-tls-verify: true } }]',
  'users: [{ name: u, user: { token: kubeconfig-secret-token-123 } }]',
  'contexts: [{ name: x, context: { cluster: c, user: u } }]',
  'current-context: x',
].join('\n');

describe('the bundle as the runner runs it', () => {
  it('lists every bad input with its fix and exits 1', async () => {
    const result = await runAction(
      { 'target-version': '1.31;rm -rf /', 'ssh-user': 'root;id', 'max-unavailable': 'lots', kubeconfig },
      { bundle },
    );
    expect(result.exitCode).toBe(1);
    const error = result.stdout.split('\n').find((l) => l.startsWith('::error::')) ?? '';
    for (const input of ['target-version', 'ssh-user', 'max-unavailable']) expect(error).toContain(`%0A${input}: `);
    expect(error).toContain('Fix:');
    expect(result.outputs).toEqual({});
  });

  it('masks the secrets before anything else is printed', async () => {
    const result = await runAction({ 'target-version': '1.31', kubeconfig }, { bundle, githubToken: 'ghs_secretToken42' });
    const lines = result.stdout.split('\n');
    const firstOther = lines.findIndex((l) => !l.startsWith('::add-mask::'));
    const masks = lines.slice(0, firstOther).join('\n');
    expect(masks).toContain('kubeconfig-secret-token-123');
    expect(masks).toContain('ghs_secretToken42');
    expect(lines.slice(firstOther).join('\n')).not.toContain('ghs_secretToken42');
  });

  it('says kubeconfig is needed for plan', async () => {
    const result = await runAction({ 'target-version': '1.31' }, { bundle });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/::error::.*kubeconfig: is empty/);
  });

  it('refuses a private key it cannot use, before connecting', async () => {
    const key = '-----BEGIN OPENSSH PRIVATE KEY-----\nbm90IGEga2V5\n-----END OPENSSH PRIVATE KEY-----\n';
    const inventory = 'nodes:\n  - { name: cp-1, address: 127.0.0.1, role: control-plane, port: 1 }\n';
    const result = await runAction(
      { 'target-version': '1.31', kubeconfig, inventory, 'ssh-private-key': key, 'ssh-known-hosts': '127.0.0.1 ssh-ed25519 AAAA' },
      { bundle },
    );
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/::error::.*ssh-private-key: cannot be read as an SSH private key/);
    expect(result.stdout).not.toContain('Reading the cluster');
  });

  it('refuses an upgrade over SSH without a key or known hosts, before contacting any node', async () => {
    const inventory = 'nodes:\n  - { name: cp-1, address: 127.0.0.1, role: control-plane, port: 1 }\n';
    const result = await runAction({ command: 'upgrade', 'target-version': '1.31', kubeconfig, inventory }, { bundle });
    expect(result.exitCode).toBe(1);
    const error = result.stdout.split('\n').find((l) => l.startsWith('::error::')) ?? '';
    expect(error).toContain('no node was contacted');
    expect(error).toContain('%0Assh-private-key: is empty');
    expect(error).toContain('%0Assh-known-hosts: is empty');
  });

  it('reports an unreachable API in the summary and outputs, exits 1, and the post step exits 0', async () => {
    const github = await startGitHubApi();
    try {
      const dir = mkdtempSync(join(tmpdir(), 'kua-key-'));
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'id')]);
      const inventory = 'nodes:\n  - { name: cp-1, address: 127.0.0.1, role: control-plane, port: 1 }\n';
      const result = await runAction(
        {
          'target-version': '1.31',
          kubeconfig,
          inventory,
          'ssh-private-key': readFileSync(join(dir, 'id'), 'utf8'),
          'ssh-known-hosts': '[127.0.0.1]:1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA',
          'pr-comment': 'never',
        },
        { bundle, apiUrl: github.url, githubToken: 't', event: { name: 'pull_request', payload: { pull_request: { number: 3 } } } },
      );
      expect(result.exitCode).toBe(1);
      expect(result.stdout).toContain('cannot reach the Kubernetes API at https://127.0.0.1:1');
      expect(result.stdout).toMatch(
        /::warning::1 node\(s\) could not be read:%0Acp-1: cannot connect to node cp-1 \(root@127\.0\.0\.1:1\)/,
      );
      const plan = JSON.parse(result.outputs.plan ?? '{}');
      expect(plan.verdict).toBe('blocked');
      // the title, then the verdict before anything else
      expect(
        result.summary
          .split('\n')
          .filter((l) => l.trim() !== '')
          .slice(0, 2)
          .join('\n'),
      ).toMatch(/blocked/i);
      expect(github.requests).toEqual([]); // pr-comment: never
      expect(result.state).toEqual({ isPost: 'true' });
      const post = await result.runPost();
      expect(post.exitCode).toBe(0);
      expect(post.stdout).not.toContain('::error::');
    } finally {
      await github.close();
    }
  });
});
