// The one way the Action prints to the job log. The runner reads a step's output line by line (\n, \r\n and a
// lone \r each end a line) and executes a workflow command wherever it finds one (actions/runner,
// ActionCommand.TryParseV2 / TryParse): `::name props::data` at the start of a line after leading white space,
// and the legacy `##[name props]data` ANYWHERE in a line. Text from outside — what a node prints, messages built
// from its stderr, API error messages — could otherwise set outputs, save the post step's state, add masks or stop
// command processing. Every line is neutralised here, per line and without state: a ZERO WIDTH SPACE (U+200B,
// not white space to .NET, so the runner's TrimStart keeps it) goes between the two colons of a leading `::` and
// between the two hashes of every `##[`. The job log shows the same text; the runner executes none of it.
// Per-line escaping rather than `::stop-commands::<token>`: stages print concurrently with the Action's own
// annotations and groups, which a stop window would swallow, and a kill inside the window would leave it open
// for the rest of the step's output.
import * as core from '@actions/core';

const ZWSP = '\u200b';
/** What .NET's TrimStart removes (char.IsWhiteSpace) and a little more: JS's \s, NEL, MONGOLIAN VOWEL SEPARATOR, ZWSP. */
const LEADING_SPACE = /^[\s\u0085\u180e\u200b]*/;

function neutraliseLine(line: string): string {
  const lead = LEADING_SPACE.exec(line)?.[0] ?? '';
  const rest = line.slice(lead.length);
  const line2 = rest.startsWith('::') ? `${lead}:${ZWSP}${rest.slice(1)}` : line;
  return line2.replaceAll('##[', `#${ZWSP}#[`);
}

/** The text with no workflow command the runner would execute; line breaks and visible characters unchanged. */
export function neutraliseCommands(text: string): string {
  return text
    .split(/(\r\n|\r|\n)/)
    .map((part, i) => (i % 2 === 1 ? part : neutraliseLine(part)))
    .join('');
}

/** The Action's job log: every line it prints (stage output, errors, API messages) goes through here. */
export const log = {
  info: (text: string): void => core.info(neutraliseCommands(text)),
  warning: (text: string): void => core.warning(neutraliseCommands(text)),
  error: (text: string): void => core.error(neutraliseCommands(text)),
  notice: (text: string): void => core.notice(neutraliseCommands(text)),
  group(title: string, lines: readonly string[]): void {
    core.startGroup(neutraliseCommands(title));
    for (const line of lines) core.info(neutraliseCommands(line));
    core.endGroup();
  },
  /** fails the step with this message (an error annotation) */
  setFailed: (text: string): void => core.setFailed(neutraliseCommands(text)),
};
