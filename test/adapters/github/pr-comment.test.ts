// The sticky PR comment against a local GitHub API stand-in: found by marker across pages, updated, never doubled.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  commentMarker,
  decideComment,
  describeCommentFailure,
  upsertComment,
  type PullRequestEvent,
} from '../../../src/adapters/github/pr-comment.ts';
import { startGitHubApi, type GitHubApiStandIn } from '../../support/github-api.ts';

let api: GitHubApiStandIn;
beforeAll(async () => {
  api = await startGitHubApi();
});
afterAll(async () => {
  await api?.close();
});

function prEvent(head = 'octo-org/clusters', eventName = 'pull_request'): PullRequestEvent {
  return {
    eventName,
    repository: 'octo-org/clusters',
    workflow: 'plan',
    payload: { pull_request: { number: 12, head: { repo: { full_name: head } } } },
  };
}

describe('decideComment', () => {
  it('posts on pull_request events in auto mode', () => {
    expect(decideComment('auto', prEvent(), 't')).toEqual({ post: true, owner: 'octo-org', repo: 'clusters', issueNumber: 12 });
  });

  it('stays silent outside pull requests in auto mode, and never posts in never mode', () => {
    expect(decideComment('auto', { ...prEvent(), eventName: 'workflow_dispatch', payload: {} }, 't')).toEqual({ post: false });
    expect(decideComment('never', prEvent(), 't')).toEqual({ post: false });
  });

  it('skips fork pull requests and missing tokens with a notice that says why', () => {
    const fork = decideComment('auto', prEvent('mallory/clusters'), 't');
    expect(fork).toMatchObject({ post: false });
    expect(!fork.post && fork.notice).toContain('fork mallory/clusters');
    const noToken = decideComment('auto', prEvent(), undefined);
    expect(!noToken.post && noToken.notice).toContain('github-token');
  });

  it('keeps the marker a well-formed HTML comment whatever the names hold', () => {
    expect(commentMarker('Plan --> <script>', 'prod-eu')).toBe('<!-- kubeadm-upgrade-action:plan:Plan -_ _script_:prod-eu -->');
  });
});

describe('upsertComment', () => {
  it('creates one comment, then finds it on a later page and updates it in place', async () => {
    for (let i = 0; i < 130; i++) api.addComment('octo-org', 'clusters', 12, `chatter ${i}`);
    const marker = commentMarker('plan', 'prod-eu');
    const target = { owner: 'octo-org', repo: 'clusters', issueNumber: 12 };
    const first = await upsertComment({ token: 'token-1', apiUrl: api.url }, target, marker, `first plan\n${marker}`);
    api.addComment('octo-org', 'clusters', 12, 'more chatter');
    const second = await upsertComment({ token: 'token-1', apiUrl: api.url }, target, marker, `second plan\n${marker}`);
    expect(first.action).toBe('created');
    expect(second).toMatchObject({ action: 'updated', id: first.id });
    const ours = api.comments('octo-org', 'clusters', 12).filter((c) => c.body.includes(marker));
    expect(ours.map((c) => c.body)).toEqual([`second plan\n${marker}`]);
    // the listing followed the Link header past the first page of 100
    expect(api.requests.filter((r) => r.method === 'GET' && r.path.includes('page=2')).length).toBeGreaterThan(0);
    expect(api.requests.every((r) => r.authorization === 'token token-1')).toBe(true);
  });

  it('a comment for another cluster is a separate comment', async () => {
    const target = { owner: 'octo-org', repo: 'clusters', issueNumber: 13 };
    await upsertComment({ token: 't', apiUrl: api.url }, target, commentMarker('plan', 'a'), `A ${commentMarker('plan', 'a')}`);
    await upsertComment({ token: 't', apiUrl: api.url }, target, commentMarker('plan', 'b'), `B ${commentMarker('plan', 'b')}`);
    expect(api.comments('octo-org', 'clusters', 13)).toHaveLength(2);
  });

  it('turns a 403 into a notice about permissions', async () => {
    api.forbidWrites = true;
    try {
      const error = await upsertComment(
        { token: 't', apiUrl: api.url },
        { owner: 'octo-org', repo: 'clusters', issueNumber: 14 },
        'm',
        'body m',
      ).catch((e: unknown) => e);
      const failure = describeCommentFailure(error);
      expect(failure.level).toBe('notice');
      expect(failure.message).toContain('pull-requests: write');
    } finally {
      api.forbidWrites = false;
    }
  });
});
