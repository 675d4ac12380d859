// Small helpers shared by the plan modules.
import type { NodeNames } from './plan-types.ts';

/** Node lists in verdicts are capped; the full count is kept. */
export const MAX_NAMES = 50;

export function capNames(names: string[], max = MAX_NAMES): NodeNames {
  return { nodes: names.slice(0, max), nodeCount: names.length };
}

/** "cp-1, cp-2 and 3 more" */
export function listText(names: string[], max = 5): string {
  if (names.length <= max) return names.join(', ');
  return `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}

export function plural(n: number, word: string, pluralWord = `${word}s`): string {
  return `${n} ${n === 1 ? word : pluralWord}`;
}
