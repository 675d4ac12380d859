// Label selectors (query strings and LabelSelector objects) and field selectors.
import { badRequest } from './errors.ts';
import type { Obj } from './store.ts';

export type Labels = Record<string, string> | undefined;
export type LabelMatcher = (labels: Labels) => boolean;

interface Requirement {
  key: string;
  op: 'in' | 'notin' | 'exists' | '!exists' | '=' | '!=';
  values: string[];
}

/** Splits at commas that are not inside parentheses. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const c of text) {
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (c === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += c;
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

const KEY = String.raw`([A-Za-z0-9][-A-Za-z0-9_./]*)`;
const VALUE = String.raw`([-A-Za-z0-9_.]*)`;

function parseRequirement(text: string): Requirement {
  let m = new RegExp(String.raw`^${KEY}\s+(in|notin)\s+\(([^)]*)\)$`).exec(text);
  if (m) return { key: m[1]!, op: m[2] as 'in' | 'notin', values: m[3]!.split(',').map((v) => v.trim()) };
  m = new RegExp(String.raw`^${KEY}\s*(==|=|!=)\s*${VALUE}$`).exec(text);
  if (m) return { key: m[1]!, op: m[2] === '!=' ? '!=' : '=', values: [m[3]!] };
  m = new RegExp(String.raw`^!\s*${KEY}$`).exec(text);
  if (m) return { key: m[1]!, op: '!exists', values: [] };
  m = new RegExp(String.raw`^${KEY}$`).exec(text);
  if (m) return { key: m[1]!, op: 'exists', values: [] };
  throw badRequest(`unable to parse requirement: found '${text}', expected: identifier, !, in, notin, =, ==, !=`);
}

function matches(req: Requirement, labels: Labels): boolean {
  const has = labels !== undefined && Object.hasOwn(labels, req.key);
  const value = has ? labels![req.key]! : undefined;
  switch (req.op) {
    case 'exists':
      return has;
    case '!exists':
      return !has;
    case '=':
    case 'in':
      return has && req.values.includes(value!);
    case '!=':
    case 'notin':
      return !has || !req.values.includes(value!);
  }
}

function matcherOf(reqs: Requirement[]): LabelMatcher {
  if (reqs.length === 0) return () => true;
  return (labels) => reqs.every((r) => matches(r, labels));
}

/** `app=web,tier!=db,env in (a,b),!legacy` → matcher. */
export function parseLabelSelector(text: string | null | undefined): LabelMatcher {
  if (!text) return () => true;
  return matcherOf(splitTopLevel(text).map(parseRequirement));
}

/** A LabelSelector object (matchLabels / matchExpressions). Empty selects everything; null nothing. */
export function labelSelectorMatcher(selector: Obj | null | undefined): LabelMatcher {
  if (!selector) return () => false;
  const reqs: Requirement[] = Object.entries((selector.matchLabels ?? {}) as Record<string, string>).map(([key, value]) => ({
    key,
    op: '=' as const,
    values: [value],
  }));
  for (const e of (selector.matchExpressions ?? []) as Obj[]) {
    const op = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!exists' }[e.operator as string] as
      | Requirement['op']
      | undefined;
    if (!op) return () => false;
    reqs.push({ key: e.key, op, values: e.values ?? [] });
  }
  return matcherOf(reqs);
}

export interface FieldRequirement {
  field: string;
  value: string;
  negate: boolean;
}

const commonFields = ['metadata.name', 'metadata.namespace'];
const fieldsByResource: Record<string, string[]> = {
  pods: [
    ...commonFields,
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'status.phase',
    'status.podIP',
    'status.nominatedNodeName',
  ],
  nodes: [...commonFields, 'spec.unschedulable'],
  events: [
    ...commonFields,
    'involvedObject.kind',
    'involvedObject.namespace',
    'involvedObject.name',
    'involvedObject.uid',
    'involvedObject.apiVersion',
    'involvedObject.resourceVersion',
    'involvedObject.fieldPath',
    'reason',
    'reportingComponent',
    'source',
    'type',
  ],
  namespaces: [...commonFields, 'status.phase'],
  secrets: [...commonFields, 'type'],
  replicasets: [...commonFields, 'status.replicas'],
  jobs: [...commonFields, 'status.successful'],
};

export function parseFieldSelector(text: string | null | undefined, plural: string): FieldRequirement[] {
  if (!text) return [];
  const allowed = fieldsByResource[plural] ?? commonFields;
  return splitTopLevel(text).map((part) => {
    const m = /^([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*)$/.exec(part);
    if (!m) throw badRequest(`invalid selector: '${text}'; can't understand '${part}'`);
    if (!allowed.includes(m[1]!)) throw badRequest(`field label not supported: ${m[1]}`);
    return { field: m[1]!, value: m[3]!, negate: m[2] === '!=' };
  });
}

function fieldValue(obj: Obj, field: string): string {
  if (field === 'source') return String(obj.source?.component ?? obj.reportingComponent ?? '');
  if (field === 'status.successful') return String(obj.status?.succeeded ?? 0);
  let v: any = obj;
  for (const part of field.split('.')) v = v?.[part];
  if (field === 'spec.unschedulable') return v === true ? 'true' : 'false';
  return v === undefined || v === null ? '' : String(v);
}

export function fieldsMatch(reqs: FieldRequirement[], obj: Obj): boolean {
  return reqs.every((r) => (fieldValue(obj, r.field) === r.value) !== r.negate);
}
