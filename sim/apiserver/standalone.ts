// A self-contained API server for tests: a temporary CA, serving certificate (127.0.0.1, localhost),
// admin client certificate (CN=kubernetes-admin, O=system:masters) and kubeconfig file.
//
//   const server = await startStandaloneApiServer();
//   … kubectl --kubeconfig server.kubeconfigPath get nodes …
//   await server.close();   // stops the server and removes the temporary directory
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderKubeconfig } from '../lib/kube-rest.ts';
import { createCA, issueCert } from '../lib/pki.ts';
import { userKubeconfig } from '../lib/user-kubeconfig.ts';
import { startApiServer, type ApiServerOptions, type RunningApiServer } from './server.ts';

export interface StandaloneApiServer {
  url: string;
  kubeconfigPath: string;
  kubeconfigText: string;
  /** the temporary directory holding ca.crt/key, apiserver.crt/key, admin.crt/key, kubeconfig */
  dir: string;
  caPem: string;
  /** direct access to the server's store and object API (tests may arrange state through them) */
  server: RunningApiServer;
  /** kubeconfig text for a user (client certificate CN=user, O=groups) that RBAC authorizes */
  userKubeconfig(user: string, groups?: string[]): Promise<string>;
  close(): Promise<void>;
}

export type StandaloneOptions = Omit<ApiServerOptions, 'tls' | 'host' | 'port'>;

export async function startStandaloneApiServer(options: StandaloneOptions = {}): Promise<StandaloneApiServer> {
  const dir = await mkdtemp(join(tmpdir(), 'sim-apiserver-'));
  try {
    const ca = await createCA(dir, 'ca', 'kubernetes');
    const [serving, admin] = await Promise.all([
      issueCert({
        ca,
        outDir: dir,
        name: 'apiserver',
        cn: 'kube-apiserver',
        dnsNames: ['localhost', 'kubernetes', 'kubernetes.default'],
        ipAddresses: ['127.0.0.1'],
        usage: 'server',
      }),
      issueCert({ ca, outDir: dir, name: 'admin', cn: 'kubernetes-admin', organizations: ['system:masters'], usage: 'client' }),
    ]);
    const caPem = await readFile(ca.cert, 'utf8');
    const server = await startApiServer({
      log: () => {},
      ...options,
      host: '127.0.0.1',
      port: 0,
      tls: { cert: serving.cert, key: serving.key, ca: ca.cert },
    });
    const kubeconfigText = renderKubeconfig({
      server: server.url,
      caPem,
      certPem: await readFile(admin.cert, 'utf8'),
      keyPem: await readFile(admin.key, 'utf8'),
      userName: 'kubernetes-admin',
      clusterName: 'kubernetes',
    });
    const kubeconfigPath = join(dir, 'kubeconfig');
    await writeFile(kubeconfigPath, kubeconfigText, { mode: 0o600 });
    return {
      url: server.url,
      kubeconfigPath,
      kubeconfigText,
      dir,
      caPem,
      server,
      userKubeconfig: (user, groups = []) => userKubeconfig({ ca, server: server.url, outDir: dir, user, groups }),
      close: async () => {
        await server.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
