// Property test (issue #10, hostile-input suite): whatever a field that reaches a command line holds, the program
// on the node receives exactly that string. Commands are built by the real builders (etcdctl's TLS flags from the
// external-etcd inputs, the package managers' install commands from a version, the repository files a node
// reported), then turned into the line the SSH transport sends (quoteCommand(withSudo(argv, user, true)), as
// src/adapters/transport/ssh.ts does) and run through a real `sh -c` and a real `sudo -n`, with printf in front so
// the arguments come back NUL-separated. Random strings: any well-formed unicode (what YAML and the environment can carry) except NUL, with shell
// metacharacters, quotes, newlines and workflow commands mixed in often.
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { saveSnapshot } from '../../src/backup/etcd.ts';
import { aptPackageManager } from '../../src/adapters/node/packages/apt.ts';
import { rpmPackageManager } from '../../src/adapters/node/packages/rpm.ts';
import type { CommandResult, NodeShell, RunOptions } from '../../src/adapters/transport/node-shell.ts';
import { withSudo } from '../../src/adapters/transport/node-shell.ts';
import { quoteCommand } from '../../src/adapters/transport/quote.ts';

const hostilePieces = [
  "'",
  '"',
  '`',
  '$(',
  ')',
  '${IFS}',
  ';',
  '|',
  '&',
  '\n',
  '\\',
  '*',
  '?',
  '~',
  '#',
  '-',
  ' ',
  '::set-output name=x::',
  '##[',
  'é',
  '😀',
];
/** Mostly-safe words with a metacharacter or two: what a quoting shortcut for "simple" words would get wrong. */
const nearlySafe = fc
  .array(fc.constantFrom('$(', ')', '`', '$', '{', '}', 'id', 'a', '1', '/', '.', '-', '=', ':', ',', '@', '%', '+', '_'), {
    minLength: 1,
    maxLength: 8,
  })
  .map((parts) => parts.join(''));
const field = fc
  .oneof(
    nearlySafe,
    fc
      .array(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 12 }),
          fc.constantFrom(...hostilePieces),
          fc.stringMatching(/^[A-Za-z0-9_@%+=:,./-]{1,6}$/),
        ),
        { maxLength: 12 },
      )
      .map((parts) => parts.join('')),
  )
  .filter((s) => !s.includes('\0') && Buffer.from(s, 'utf8').toString('utf8') === s);

/** What the program receives when the transport sends `argv` for a login user that needs sudo. */
function throughShellAndSudo(argv: readonly string[]): string[] {
  const line = quoteCommand(withSudo(['printf', '%s\\0', ...argv], 'deploy', true));
  const out = execFileSync('sh', ['-c', line], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return out.split('\0').slice(0, -1);
}

/** A node that records the argv of every command and answers what saveSnapshot needs. */
function recordingShell(): NodeShell & { argvs: string[][] } {
  const argvs: string[][] = [];
  return {
    node: 'cp-1',
    argvs,
    async run(argv: readonly string[], _opts?: RunOptions): Promise<CommandResult> {
      argvs.push([...argv]);
      if (argv.includes('command -v etcdctl')) return { code: 0, stdout: '/usr/local/bin/etcdctl\n', stderr: '' };
      if (argv.includes('status')) return { code: 0, stdout: '{"hash":1,"revision":2,"totalKey":3,"totalSize":4}', stderr: '' };
      return { code: 0, stdout: '', stderr: '' };
    },
    async close() {},
  };
}

const RUNS = { numRuns: 40 };

describe('every field that reaches a command line arrives unchanged through sh -c and sudo', () => {
  test('a plain argument vector', () => {
    fc.assert(
      fc.property(fc.array(field, { minLength: 1, maxLength: 6 }), (argv) => {
        expect(throughShellAndSudo(argv)).toEqual(argv);
      }),
      RUNS,
    );
  });

  test('etcd-endpoints, etcd-ca, etcd-cert, etcd-key and the snapshot path in etcdctl snapshot save', async () => {
    await fc.assert(
      fc.asyncProperty(field, field, field, field, field, async (endpoint, cacert, cert, key, target) => {
        const shell = recordingShell();
        await saveSnapshot(shell, { endpoint, cacert, cert, key, external: true }, target);
        const save = shell.argvs.find((a) => a.includes('save'))!;
        expect(save).toEqual(
          expect.arrayContaining([`--endpoints=${endpoint}`, `--cacert=${cacert}`, `--cert=${cert}`, `--key=${key}`, target]),
        );
        for (const argv of shell.argvs) expect(throughShellAndSudo(argv)).toEqual(argv);
      }),
      { numRuns: 20 },
    );
  });

  test('a package version and the repository files a node reported, in apt and dnf install steps', () => {
    fc.assert(
      fc.property(field, fc.array(field, { minLength: 1, maxLength: 3 }), (version, repoFiles) => {
        const context = { repoFiles, lockTimeoutSeconds: 120 };
        for (const manager of [aptPackageManager, rpmPackageManager('dnf')]) {
          const steps = manager.installSteps(['kubeadm'], version, context);
          expect(steps.some((s) => s.argv.some((a) => a.includes(version)))).toBe(true);
          for (const step of steps) expect(throughShellAndSudo(step.argv)).toEqual(step.argv);
        }
      }),
      { numRuns: 8 },
    );
  });
});
