// Listing nodes the way the Action reads a large cluster: limit/continue pagination, label and field selectors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { V1NodeList } from '@kubernetes/client-node';
import { RUN_LABEL, closeScope, openScope, type ContractScope } from './fixture.ts';

const ZONE_LABEL = 'contract.test/zone';
const ZONES = ['a', 'a', 'b', 'b', 'c'];

let scope: ContractScope;

beforeAll(async () => {
  scope = await openScope(0);
  for (const zone of ZONES) await scope.createReadyNode({ [ZONE_LABEL]: zone });
});
afterAll(async () => {
  await closeScope(scope);
});

interface Page {
  names: string[];
  remainingItemCount: number | undefined;
  continueToken: string | undefined;
}

async function listPages(first: { limit: number; labelSelector?: string }, nextLimit: number): Promise<Page[]> {
  const pages: Page[] = [];
  let continueToken: string | undefined;
  do {
    const limit = pages.length === 0 ? first.limit : nextLimit;
    const list: V1NodeList = await scope.core.listNode({ labelSelector: first.labelSelector, limit, _continue: continueToken });
    expect(list.items.length, 'a page never holds more than the limit').toBeLessThanOrEqual(limit);
    continueToken = list.metadata?._continue || undefined;
    pages.push({
      names: list.items.map((node) => node.metadata!.name!),
      remainingItemCount: list.metadata?.remainingItemCount,
      continueToken,
    });
    expect(pages.length, 'pagination did not end').toBeLessThan(500);
  } while (continueToken);
  return pages;
}

describe('node list pagination (limit/continue)', () => {
  it('with a labelSelector: pages until continue is empty, every node once, no remainingItemCount', async () => {
    const pages = await listPages({ limit: 2, labelSelector: `${RUN_LABEL}=${scope.run}` }, 2);
    const names = pages.flatMap((page) => page.names);
    expect([...names].sort()).toEqual([...scope.nodes].sort());
    expect(pages.length).toBeGreaterThanOrEqual(3);
    for (const page of pages) expect(page.remainingItemCount).toBeUndefined();
    expect(pages.at(-1)!.continueToken).toBeUndefined();
  });

  it('without a selector: remainingItemCount on the first page counts exactly what the later pages hold', async () => {
    const pages = await listPages({ limit: 2 }, 500);
    const names = pages.flatMap((page) => page.names);
    expect(new Set(names).size, `a node was listed twice: ${names.join(', ')}`).toBe(names.length);
    for (const ours of scope.nodes) expect(names).toContain(ours);
    const [first, ...rest] = pages;
    expect(first!.remainingItemCount).toBe(rest.reduce((sum, page) => sum + page.names.length, 0));
    expect(pages.at(-1)!.remainingItemCount).toBeUndefined();
  });

  it('rejects a malformed continue token with 400 instead of restarting the list', async () => {
    const failure = await scope.core.listNode({ limit: 1, _continue: 'not-a-token' }).then(
      () => undefined,
      (error: { code?: number }) => error.code,
    );
    expect(failure, 'a malformed continue token is a 400 BadRequest').toBe(400);
  });
});

describe('node selectors', () => {
  it('label selector with equality and set-based terms', async () => {
    const inAorC = await scope.core.listNode({ labelSelector: `${RUN_LABEL}=${scope.run},${ZONE_LABEL} in (a,c)` });
    const expected = scope.nodes.filter((_, i) => ZONES[i] === 'a' || ZONES[i] === 'c');
    expect(inAorC.items.map((n) => n.metadata!.name).sort()).toEqual(expected.sort());

    const notA = await scope.core.listNode({ labelSelector: `${RUN_LABEL}=${scope.run},${ZONE_LABEL}!=a` });
    expect(notA.items.map((n) => n.metadata!.name).sort()).toEqual(scope.nodes.filter((_, i) => ZONES[i] !== 'a').sort());
  });

  it('field selector metadata.name returns exactly that node', async () => {
    const wanted = scope.nodes[3]!;
    const list = await scope.core.listNode({ fieldSelector: `metadata.name=${wanted}` });
    expect(list.items.map((n) => n.metadata!.name)).toEqual([wanted]);
    const none = await scope.core.listNode({ fieldSelector: `metadata.name=${scope.run}-absent` });
    expect(none.items).toEqual([]);
  });
});
