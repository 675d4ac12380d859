// Label selectors as kubectl takes them on the command line ("app!=db,tier in (web,cache),!legacy"): parsed once
// (so a bad drain-pod-selector is an input error before anything connects) and matched in the core, so the plan's
// forecast leaves alone exactly the pods the drain leaves alone.

export type Requirement =
  | { key: string; op: '=' | '!='; value: string }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | '!exists' };

const KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/;
const VALUE = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?)?$/;

/** Splits at the commas that are not inside parentheses. */
function terms(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(current);
      current = '';
    } else current += ch;
  }
  out.push(current);
  return out.map((t) => t.trim());
}

function checkKey(key: string, term: string): string {
  if (!KEY.test(key)) throw new Error(`"${term}": "${key}" is not a label key`);
  return key;
}

function checkValue(value: string, term: string): string {
  if (!VALUE.test(value) || value.length > 63) throw new Error(`"${term}": "${value}" is not a label value`);
  return value;
}

/** Parses a selector; throws an Error naming the bad term. An empty selector selects everything. */
export function parseLabelSelector(text: string): Requirement[] {
  if (text.trim() === '') return [];
  return terms(text).map((term): Requirement => {
    let m = /^(\S+)\s+(in|notin)\s+\(([^()]*)\)$/.exec(term);
    if (m)
      return { key: checkKey(m[1]!, term), op: m[2] as 'in' | 'notin', values: m[3]!.split(',').map((v) => checkValue(v.trim(), term)) };
    m = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term);
    if (m) return { key: checkKey(m[1]!, term), op: m[2] === '!=' ? '!=' : '=', value: checkValue(m[3]!, term) };
    m = /^(!?)\s*([^=!\s(),]+)$/.exec(term);
    if (m) return { key: checkKey(m[2]!, term), op: m[1] ? '!exists' : 'exists' };
    throw new Error(`"${term}" is not a selector term (use key=value, key!=value, key in (a,b), key notin (a,b), key or !key)`);
  });
}

export function selectorSelects(requirements: readonly Requirement[], labels: Record<string, string>): boolean {
  return requirements.every((r) => {
    const has = Object.hasOwn(labels, r.key);
    const value = labels[r.key];
    switch (r.op) {
      case '=':
        return has && value === r.value;
      case '!=':
        return !has || value !== r.value;
      case 'in':
        return has && r.values.includes(value!);
      case 'notin':
        return !has || !r.values.includes(value!);
      case 'exists':
        return has;
      case '!exists':
        return !has;
    }
    return false; // not reached: the switch covers every op
  });
}
