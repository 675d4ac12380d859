// A small PKI for the simulator, built on the openssl CLI (no extra packages, argument vectors only).
//
// - createCA(dir, name, cn)          → DIR/NAME.crt + DIR/NAME.key, a self-signed CA (10 years)
// - issueCert({ ca, outDir, name, … }) → OUTDIR/NAME.crt + OUTDIR/NAME.key signed by `ca` (1 year)
// - createServiceAccountKeyPair(dir) → DIR/sa.key + DIR/sa.pub (RSA 2048, as kubeadm makes them)
//
// Keys are EC P-256 (PKCS#8 PEM): fast to make, accepted by Node's TLS, Go (etcd) and OpenSSH-free tooling.
// Everything is PEM on disk; callers read the files they need.
import { execFile } from 'node:child_process';
import { generateKeyPair, randomBytes } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface KeyPairPaths {
  /** path of the PEM certificate */
  cert: string;
  /** path of the PEM private key (mode 0600) */
  key: string;
}

export type CertUsage = 'server' | 'client' | 'both';

export interface IssueCertOptions {
  /** the signing CA's certificate and key paths */
  ca: KeyPairPaths;
  outDir: string;
  /** file base name: writes NAME.crt and NAME.key */
  name: string;
  /** subject common name, e.g. "kubernetes-admin" or "system:node:worker-1" */
  cn: string;
  /** subject organizations (Kubernetes groups), e.g. ["system:masters"] */
  organizations?: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
  usage: CertUsage;
  /** validity in days, default 365 */
  days?: number;
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args, { maxBuffer: 1024 * 1024 });
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`openssl ${args[0]} failed: ${(e.stderr ?? e.message).trim()}`);
  }
}

/** Escapes a value for openssl's "-subj /K=V/..." syntax. */
function subjectValue(value: string): string {
  return value.replace(/[\\/=+,]/g, (c) => `\\${c}`);
}

function subject(cn: string, organizations: string[] = []): string {
  return `${organizations.map((o) => `/O=${subjectValue(o)}`).join('')}/CN=${subjectValue(cn)}`;
}

const generateKeyPairAsync = promisify(generateKeyPair);

/** Makes the key in-process (an openssl process per key costs more than the signing under load). */
async function generateEcKey(path: string): Promise<void> {
  const { privateKey } = await generateKeyPairAsync('ec', { namedCurve: 'P-256' });
  await writeFile(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  await chmod(path, 0o600);
}

function serialArg(): string {
  // Positive 127-bit serial: clear the top bit so openssl never sees a negative number.
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return `0x${bytes.toString('hex')}`;
}

/** Creates a self-signed CA valid for 10 years: DIR/NAME.crt and DIR/NAME.key. */
export async function createCA(dir: string, name: string, cn: string): Promise<KeyPairPaths> {
  await mkdir(dir, { recursive: true });
  const paths = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  await generateEcKey(paths.key);
  await openssl([
    'req',
    '-x509',
    '-new',
    '-key',
    paths.key,
    '-sha256',
    '-days',
    '3650',
    '-subj',
    subject(cn),
    '-set_serial',
    serialArg(),
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign',
    '-addext',
    'subjectKeyIdentifier=hash',
    '-out',
    paths.cert,
  ]);
  return paths;
}

function extensionArgs(options: IssueCertOptions): string[] {
  const extendedUsage = { server: 'serverAuth', client: 'clientAuth', both: 'serverAuth,clientAuth' }[options.usage];
  const alt = [...(options.dnsNames ?? []).map((d) => `DNS:${d}`), ...(options.ipAddresses ?? []).map((ip) => `IP:${ip}`)];
  const extensions = [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    `extendedKeyUsage=${extendedUsage}`,
  ];
  if (alt.length > 0) extensions.push(`subjectAltName=${alt.join(',')}`);
  return extensions.flatMap((e) => ['-addext', e]);
}

/** Issues a leaf certificate signed by `options.ca`: OUTDIR/NAME.crt and OUTDIR/NAME.key (one openssl run). */
export async function issueCert(options: IssueCertOptions): Promise<KeyPairPaths> {
  await mkdir(options.outDir, { recursive: true });
  const paths = { cert: join(options.outDir, `${options.name}.crt`), key: join(options.outDir, `${options.name}.key`) };
  await generateEcKey(paths.key);
  await openssl([
    'req',
    '-x509',
    '-new',
    '-key',
    paths.key,
    '-CA',
    options.ca.cert,
    '-CAkey',
    options.ca.key,
    '-subj',
    subject(options.cn, options.organizations),
    '-set_serial',
    serialArg(),
    '-days',
    String(options.days ?? 365),
    '-sha256',
    ...extensionArgs(options),
    '-out',
    paths.cert,
  ]);
  return paths;
}

/** The service-account signing key pair kubeadm keeps as pki/sa.key and pki/sa.pub (RSA 2048). */
export async function createServiceAccountKeyPair(dir: string): Promise<{ key: string; pub: string }> {
  await mkdir(dir, { recursive: true });
  const paths = { key: join(dir, 'sa.key'), pub: join(dir, 'sa.pub') };
  await openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', paths.key]);
  await chmod(paths.key, 0o600);
  await openssl(['pkey', '-in', paths.key, '-pubout', '-out', paths.pub]);
  return paths;
}
