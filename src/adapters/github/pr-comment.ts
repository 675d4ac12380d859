// The sticky pull-request comment: one per workflow + cluster, found again by a hidden marker and updated
// in place. Fork PRs (read-only token, no secrets) and missing permissions are skipped with a notice.
import { getOctokit } from '@actions/github';

export interface PullRequestEvent {
  eventName: string;
  /** GITHUB_REPOSITORY, "owner/name" */
  repository: string;
  workflow: string;
  /** the event payload (GITHUB_EVENT_PATH) */
  payload: {
    pull_request?: { number?: number; head?: { repo?: { full_name?: string } | null } };
    issue?: { number?: number; pull_request?: unknown };
  };
}

export type CommentDecision = { post: true; owner: string; repo: string; issueNumber: number } | { post: false; notice?: string };

const PULL_REQUEST_EVENTS = ['pull_request', 'pull_request_target'];

/** The hidden marker that identifies this workflow's comment for this cluster. */
export function commentMarker(workflow: string, cluster: string): string {
  // Keep the HTML comment well-formed whatever the names contain.
  const safe = (text: string) => text.replace(/[^A-Za-z0-9 ._/@+-]/g, '_').replace(/-{2,}/g, '-') || '_';
  return `<!-- kubeadm-upgrade-action:plan:${safe(workflow)}:${safe(cluster)} -->`;
}

function pullRequestNumber(event: PullRequestEvent): number | undefined {
  if (event.payload.pull_request?.number) return event.payload.pull_request.number;
  if (event.payload.issue?.pull_request && event.payload.issue.number) return event.payload.issue.number;
  return undefined;
}

/** Whether to post, from pr-comment (auto/always/never), the event and the token. */
export function decideComment(mode: 'auto' | 'always' | 'never', event: PullRequestEvent, token: string | undefined): CommentDecision {
  if (mode === 'never') return { post: false };
  if (mode === 'auto' && !PULL_REQUEST_EVENTS.includes(event.eventName)) return { post: false };
  const issueNumber = pullRequestNumber(event);
  if (!issueNumber) {
    return {
      post: false,
      notice: mode === 'always' ? `pr-comment is always, but the ${event.eventName} event has no pull request to comment on.` : undefined,
    };
  }
  const head = event.payload.pull_request?.head?.repo?.full_name;
  if (head && head !== event.repository) {
    return {
      post: false,
      notice: `This pull request comes from the fork ${head}: its token is read-only, so the plan is not posted as a PR comment. It is in this job summary.`,
    };
  }
  if (!token)
    return {
      post: false,
      notice:
        'No github-token: the plan is not posted as a PR comment. Pass github-token (default ${{ github.token }}) with pull-requests: write.',
    };
  const [owner, repo] = event.repository.split('/');
  if (!owner || !repo)
    return { post: false, notice: `GITHUB_REPOSITORY ${JSON.stringify(event.repository)} is not owner/name: no PR comment.` };
  return { post: true, owner, repo, issueNumber };
}

export interface CommentResult {
  action: 'created' | 'updated';
  id: number;
  url?: string;
}

/** Creates the comment, or updates the existing one holding `marker` (never a second one). */
export async function upsertComment(
  client: { token: string; apiUrl: string },
  target: { owner: string; repo: string; issueNumber: number },
  marker: string,
  body: string,
): Promise<CommentResult> {
  const octokit = getOctokit(client.token, { baseUrl: client.apiUrl });
  const comments = await octokit.paginate(octokit.rest.issues.listComments, {
    owner: target.owner,
    repo: target.repo,
    issue_number: target.issueNumber,
    per_page: 100,
  });
  const existing = comments.find((c) => c.body?.includes(marker));
  if (existing) {
    const updated = await octokit.rest.issues.updateComment({ owner: target.owner, repo: target.repo, comment_id: existing.id, body });
    return { action: 'updated', id: updated.data.id, url: updated.data.html_url };
  }
  const created = await octokit.rest.issues.createComment({
    owner: target.owner,
    repo: target.repo,
    issue_number: target.issueNumber,
    body,
  });
  return { action: 'created', id: created.data.id, url: created.data.html_url };
}

/** A failed comment never fails the plan: 403/404 mean missing permission (notice), the rest a warning. */
export function describeCommentFailure(error: unknown): { level: 'notice' | 'warning'; message: string } {
  const status = (error as { status?: number }).status;
  const reason = (error as Error).message ?? String(error);
  if (status === 403 || status === 404) {
    return {
      level: 'notice',
      message: `The plan could not be posted as a PR comment (HTTP ${status}: ${reason}). Give the job \`permissions: pull-requests: write\`; on fork PRs the token is read-only. The plan is in this job summary.`,
    };
  }
  return { level: 'warning', message: `The plan could not be posted as a PR comment: ${status ? `HTTP ${status}: ` : ''}${reason}` };
}
