// Action inputs as zod schemas built from plain parse functions: a failure carries the problem and its fix,
// which the settings turn into "input: problem. Fix: …" lines.
import { z } from 'zod';

export type Fail = { problem: string; fix: string };

export const fail = (problem: string, fix: string): Fail => ({ problem, fix });

export const isFail = (v: unknown): v is Fail =>
  typeof v === 'object' && v !== null && 'problem' in v && 'fix' in v && Object.keys(v).length === 2;

/** A zod string schema from a parse function; the value is trimmed first. */
export function inputField<T>(parse: (value: string) => T | Fail) {
  return z.string().transform((value, ctx): T => {
    const out = parse(value.trim());
    if (isFail(out)) {
      ctx.addIssue({ code: 'custom', message: out.problem, params: { fix: out.fix } });
      return z.NEVER;
    }
    return out;
  });
}
