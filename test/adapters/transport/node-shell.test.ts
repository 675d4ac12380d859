// What the transport adds when sudo itself refuses a command it ran through `sudo -n`: the node, the user, the fix.
import { describe, expect, it } from 'vitest';
import { explainSudoRefusal, withSudo } from '../../../src/adapters/transport/node-shell.ts';

describe('sudo for a login user other than root', () => {
  it('puts sudo -n -- in front only when root rights are asked for and the user is not root', () => {
    expect(withSudo(['kubeadm', 'version'], 'ops', true)).toEqual(['sudo', '-n', '--', 'kubeadm', 'version']);
    expect(withSudo(['kubeadm', 'version'], 'root', true)).toEqual(['kubeadm', 'version']);
    expect(withSudo(['kubeadm', 'version'], 'ops', false)).toEqual(['kubeadm', 'version']);
  });

  it.each([
    'sudo: a password is required',
    'sudo: sorry, you must have a tty to run sudo',
    'sudo: a terminal is required to read the password; either use the -S option to read from standard input or configure an askpass helper',
    'ops is not in the sudoers file.  This incident will be reported.',
    'sh: 1: sudo: not found',
  ])('explains "%s" with the node, the user and the fix', (said) => {
    const result = explainSudoRefusal({ code: 1, stdout: '', stderr: `${said}\n` }, 'worker-1', 'ops', true);
    expect(result.stderr.split('\n')[0]).toBe(said);
    expect(result.stderr).toMatch(
      /ops on worker-1 cannot run commands as root with `sudo -n` \(no terminal, no password\)\. Fix: give ops passwordless sudo on worker-1, e\.g\. \/etc\/sudoers\.d\/ops \(mode 0440\) with "ops ALL=\(ALL:ALL\) NOPASSWD: ALL".*"Defaults:ops !requiretty".*or log in as root/,
    );
  });

  it("leaves other failures, root's commands and commands without sudo as they are", () => {
    const failed = { code: 1, stdout: '', stderr: 'E: Unable to locate package kubeadm\n' };
    expect(explainSudoRefusal(failed, 'w', 'ops', true)).toBe(failed);
    const refused = { code: 1, stdout: '', stderr: 'sudo: a password is required\n' };
    expect(explainSudoRefusal(refused, 'w', 'root', true)).toBe(refused);
    expect(explainSudoRefusal(refused, 'w', 'ops', false)).toBe(refused);
  });
});
