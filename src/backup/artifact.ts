// Uploading the backup with @actions/artifact. GitHub Enterprise Server has no artifact service this client
// can use: there the files stay on the runner and the caller reports their path (backup-path output).
import { DefaultArtifactClient, GHESNotSupportedError } from '@actions/artifact';

export interface ArtifactUploader {
  /** uploads files (absolute paths under rootDirectory) as one artifact */
  upload(name: string, files: string[], rootDirectory: string, retentionDays?: number): Promise<{ id?: number; size?: number }>;
}

export class ArtifactServiceUnavailable extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'ArtifactServiceUnavailable';
  }
}

/** The same test @actions/artifact makes: a server other than github.com / *.ghe.com / *.localhost is GHES. */
export function isGhesServer(serverUrl = process.env.GITHUB_SERVER_URL ?? 'https://github.com'): boolean {
  const host = new URL(serverUrl).hostname.toUpperCase();
  return host !== 'GITHUB.COM' && !host.endsWith('.GHE.COM') && !host.endsWith('.LOCALHOST');
}

export function actionsArtifactUploader(env: NodeJS.ProcessEnv = process.env): ArtifactUploader {
  return {
    async upload(name, files, rootDirectory, retentionDays) {
      if (isGhesServer(env.GITHUB_SERVER_URL)) {
        throw new ArtifactServiceUnavailable(`${env.GITHUB_SERVER_URL} is GitHub Enterprise Server, where @actions/artifact cannot upload`);
      }
      // The runner gives each job these two; without them (outside a job) @actions/artifact cannot reach the service.
      if (!env.ACTIONS_RUNTIME_TOKEN || !env.ACTIONS_RESULTS_URL) {
        throw new ArtifactServiceUnavailable(
          'the artifact service is not available to this step (ACTIONS_RUNTIME_TOKEN / ACTIONS_RESULTS_URL are not set: not inside a GitHub Actions job)',
        );
      }
      try {
        const result = await new DefaultArtifactClient().uploadArtifact(name, files, rootDirectory, retentionDays ? { retentionDays } : {});
        return { ...(result.id !== undefined ? { id: result.id } : {}), ...(result.size !== undefined ? { size: result.size } : {}) };
      } catch (error) {
        if (error instanceof GHESNotSupportedError) throw new ArtifactServiceUnavailable(error.message);
        throw error;
      }
    },
  };
}

/** Artifact names may not hold " : < > | * ? \ / or line breaks; keep them short and readable. */
export function backupArtifactName(cluster: string, runId: string, runAttempt?: string): string {
  const clean = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '');
  return [
    'kubeadm-backup',
    clean(cluster) || 'cluster',
    `run-${clean(runId) || 'local'}`,
    ...(runAttempt && runAttempt !== '1' ? [`attempt-${clean(runAttempt)}`] : []),
  ].join('-');
}
