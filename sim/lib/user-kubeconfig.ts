// A kubeconfig for a non-admin user of a simulated cluster: a client certificate signed by the cluster
// CA with CN = the user name and O = its groups, as `kubeadm kubeconfig user --client-name` makes one.
// The API server authorizes it with RBAC, so a test can bind exactly the roles it means to grant.
import { readFile } from 'node:fs/promises';
import { renderKubeconfig } from './kube-rest.ts';
import { issueCert, type KeyPairPaths } from './pki.ts';

export interface UserKubeconfigOptions {
  /** the cluster CA's certificate and key */
  ca: KeyPairPaths;
  server: string;
  /** where NAME.crt and NAME.key are written */
  outDir: string;
  /** user name (certificate CN), e.g. "kubeadm-upgrade-action" */
  user: string;
  /** groups (certificate O) */
  groups?: string[];
  clusterName?: string;
}

/** Returns the kubeconfig text (certificate and key inline). */
export async function userKubeconfig(options: UserKubeconfigOptions): Promise<string> {
  const fileName = `user-${options.user.replace(/[^A-Za-z0-9._-]/g, '_')}`;
  const cert = await issueCert({
    ca: options.ca,
    outDir: options.outDir,
    name: fileName,
    cn: options.user,
    organizations: options.groups ?? [],
    usage: 'client',
  });
  const [caPem, certPem, keyPem] = await Promise.all([
    readFile(options.ca.cert, 'utf8'),
    readFile(cert.cert, 'utf8'),
    readFile(cert.key, 'utf8'),
  ]);
  return renderKubeconfig({
    server: options.server,
    caPem,
    certPem,
    keyPem,
    userName: options.user,
    clusterName: options.clusterName ?? 'kubernetes',
  });
}
