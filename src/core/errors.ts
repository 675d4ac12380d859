// Input errors: every problem names the input, says what is wrong and how to fix it.

export interface InputProblem {
  /** the action input (or inventory path such as `inventory: nodes[2].address`) */
  input: string;
  problem: string;
  fix: string;
}

/** Thrown before anything connects anywhere; the message lists every problem, one per line. */
export class InputError extends Error {
  problems: InputProblem[];

  constructor(problems: InputProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'InputError';
    this.problems = problems;
  }
}

export function formatProblem(p: InputProblem): string {
  return `${p.input}: ${p.problem}. Fix: ${p.fix}`;
}

/** Shows a user value in a message without flooding it or hiding control characters. */
export function quoteValue(value: string, max = 60): string {
  const shown = value.length > max ? `${value.slice(0, max)}…` : value;
  return JSON.stringify(shown);
}
