// A kubeconfig is code: a user with an exec plugin or an auth-provider runs a program on the runner when the
// client connects. checkInputs refuses both before anything connects; allow-kubeconfig-exec admits exec plugins
// (cloud kubeconfigs need them), never an auth-provider (client-node runs gcp/azure cmd-path through a shell).
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.ts';
import { parseSettings } from '../../src/core/settings.ts';
import { checkInputs } from '../../src/commands/prepare.ts';

function kubeconfig(users: string[], current = 'u'): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters: [{ name: c, cluster: { server: "https://127.0.0.1:1", insecure-skip-tls-verify: true } }]',
    `users: [${users.join(', ')}]`,
    `contexts: [{ name: x, context: { cluster: c, user: ${current} } }]`,
    'current-context: x',
  ].join('\n');
}

const EXEC = '{ name: u, user: { exec: { apiVersion: client.authentication.k8s.io/v1beta1, command: aws, args: [eks, get-token] } } }';
const GCP = '{ name: g, user: { auth-provider: { name: gcp, config: { cmd-path: gcloud, cmd-args: "config config-helper" } } } }';
const OIDC = '{ name: o, user: { auth-provider: { name: oidc, config: { client-id: x, id-token: y, idp-issuer-url: "https://idp" } } } }';
const TOKEN = '{ name: t, user: { token: abc } }';

const settings = (text: string, extra: Record<string, string> = {}) =>
  parseSettings((name) => ({ 'target-version': '1.31', kubeconfig: text, ...extra })[name] ?? '');

function problems(fn: () => unknown) {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as InputError).problems;
  }
  throw new Error('expected an InputError');
}

describe('a kubeconfig that runs programs', () => {
  it('refuses an exec plugin by default, naming the user, the command and the input that allows it', () => {
    const [problem, ...rest] = problems(() => checkInputs(settings(kubeconfig([EXEC]))));
    expect(rest).toEqual([]);
    expect(problem?.input).toBe('kubeconfig');
    expect(problem?.problem).toMatch(/user u .*exec plugin .*aws/);
    expect(problem?.fix).toContain('allow-kubeconfig-exec: true');
  });

  it('allows an exec plugin with allow-kubeconfig-exec: true', () => {
    expect(settings(kubeconfig([EXEC]), { 'allow-kubeconfig-exec': 'true' }).allowKubeconfigExec).toBe(true);
    expect(() => checkInputs(settings(kubeconfig([EXEC]), { 'allow-kubeconfig-exec': 'true' }))).not.toThrow();
  });

  it('refuses every auth-provider, also with allow-kubeconfig-exec: true, and also for a user the context does not use', () => {
    for (const extra of [{}, { 'allow-kubeconfig-exec': 'true' }] as Record<string, string>[]) {
      const listed = problems(() => checkInputs(settings(kubeconfig([TOKEN, GCP, OIDC], 't'), extra)));
      expect(listed.map((p) => p.problem).join('\n')).toMatch(/user g .*auth-provider gcp[\s\S]*user o .*auth-provider oidc/);
      expect(listed.every((p) => p.input === 'kubeconfig')).toBe(true);
    }
  });

  it('accepts certificates and tokens', () => {
    expect(() => checkInputs(settings(kubeconfig([TOKEN], 't')))).not.toThrow();
  });

  it('allow-kubeconfig-exec is a boolean input, false by default', () => {
    expect(settings(kubeconfig([TOKEN], 't')).allowKubeconfigExec).toBe(false);
    const [problem] = problems(() => settings(kubeconfig([TOKEN], 't'), { 'allow-kubeconfig-exec': 'yes' }));
    expect(problem?.input).toBe('allow-kubeconfig-exec');
  });
});
