// Who the machine says it is: the probe's identity script run by a real sh on kubelet.conf in both forms kubeadm
// leaves (certificate inline; a file holding certificate and key), and the parser of what it prints. The key never
// leaves the node: only CERTIFICATE blocks are printed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CERTIFICATE_BLOCKS_SED, IDENTITY_SCRIPT, nodeNameOfCertificate, parseIdentity } from '../../../src/adapters/node/identity.ts';
import { parseFactSections } from '../../../src/adapters/node/probe-parse.ts';

let dir: string;
/** a certificate and key (EC P-256) with the given subject, made by openssl */
function issue(name: string, subject: string): { cert: string; key: string } {
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1'].concat([
      '-keyout',
      join(dir, `${name}.key`),
      '-out',
      join(dir, `${name}.crt`),
      '-subj',
      subject,
    ]),
    { stdio: 'ignore' },
  );
  return { cert: readFileSync(join(dir, `${name}.crt`), 'utf8'), key: readFileSync(join(dir, `${name}.key`), 'utf8') };
}
let node2: { cert: string; key: string };
let admin: { cert: string; key: string };
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kua-identity-'));
  node2 = issue('cp-2', '/O=system:nodes/CN=system:node:cp-2');
  admin = issue('admin', '/O=system:masters/CN=kubernetes-admin');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const keyBody = (key: string) => key.split('\n').filter((l) => l && !l.startsWith('-----'));
const kubeconfig = (user: string) =>
  `apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: https://10.0.0.1:6443\n  name: kubernetes\nusers:\n- name: default-auth\n  user:\n${user}\n`;

/** The probe's identity script, as root, with kubelet.conf at `conf` instead of /etc/kubernetes/kubelet.conf. */
function runScript(conf: string): string {
  const script = IDENTITY_SCRIPT.replace('conf=/etc/kubernetes/kubelet.conf', `conf='${conf}'`).replace(
    /^asroot\(\).*$/m,
    'asroot() { "$@"; }',
  );
  expect(script).not.toBe(IDENTITY_SCRIPT);
  return execFileSync('sh', ['-c', script], { encoding: 'utf8' });
}

describe('the identity script and its parser', () => {
  it('reads an inline client-certificate-data and never the client-key-data', () => {
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const conf = join(dir, 'inline.conf');
    writeFileSync(conf, kubeconfig(`    client-certificate-data: ${b64(node2.cert)}\n    client-key-data: ${b64(node2.key)}`));
    const out = runScript(conf);
    expect(out).not.toContain(b64(node2.key));
    const sections = parseFactSections(out);
    expect(parseIdentity(sections.identity ?? '', '0123456789abcdef0123456789abcdef\n')).toEqual({
      certificateNode: 'cp-2',
      certificateSource: '/etc/kubernetes/kubelet.conf (client-certificate-data)',
      machineId: '0123456789abcdef0123456789abcdef',
    });
  });

  it.each([
    ['certificate then key (as the kubelet writes it)', (c: { cert: string; key: string }) => c.cert + c.key],
    ['key then certificate', (c: { cert: string; key: string }) => c.key + c.cert],
  ])('reads the file kubelet.conf names (%s), printing only the certificate', (_t, content) => {
    const pem = join(dir, 'kubelet-client-current.pem');
    writeFileSync(pem, content(node2));
    const conf = join(dir, 'file.conf');
    writeFileSync(conf, kubeconfig(`    client-certificate: "${pem}"\n    client-key: ${pem}`));
    const out = runScript(conf);
    expect(out).not.toMatch(/PRIVATE KEY/);
    for (const line of keyBody(node2.key)) expect(out).not.toContain(line);
    expect(parseIdentity(parseFactSections(out).identity ?? '', '')).toEqual({ certificateNode: 'cp-2', certificateSource: pem });
  });

  it('sed keeps the key out even when a certificate block is cut off before the key', () => {
    const pem = join(dir, 'cut.pem');
    writeFileSync(pem, `${node2.cert.split('\n').slice(0, 3).join('\n')}\n${node2.key}`);
    const out = execFileSync('sed', ['-n', '-e', CERTIFICATE_BLOCKS_SED[0], '-e', CERTIFICATE_BLOCKS_SED[1], pem], { encoding: 'utf8' });
    for (const line of keyBody(node2.key)) expect(out).not.toContain(line);
  });

  it('says why no Node name was read', () => {
    expect(nodeNameOfCertificate(admin.cert)).toEqual({ problem: expect.stringMatching(/CN=kubernetes-admin, not CN=system:node:NAME/) });
    expect(nodeNameOfCertificate('')).toEqual({ problem: 'no certificate' });
    expect(parseIdentity('none\n', 'not-a-machine-id\n')).toEqual({
      certificateProblem: '/etc/kubernetes/kubelet.conf could not be read or names no client certificate',
    });
    expect(parseIdentity('file /var/lib/kubelet/pki/kubelet-client-current.pem\n', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')).toEqual({
      certificateProblem: 'the kubelet client certificate in /var/lib/kubelet/pki/kubelet-client-current.pem: no certificate',
      machineId: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
    });
  });
});
