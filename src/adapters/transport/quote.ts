// The one place that turns an argument vector into a POSIX shell command line. Everything a command
// is built from (versions, paths, user input) passes through here, so no value ever reaches a shell
// unquoted: a word made only of safe characters is left as is, anything else is single-quoted.

const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quotes one argument so that a POSIX shell reads it back as exactly this string. */
export function quoteArg(arg: string): string {
  if (arg.includes('\0')) throw new Error('a shell argument cannot contain a NUL byte');
  if (SAFE_WORD.test(arg)) return arg;
  // Inside single quotes nothing is special except the quote itself: close, escape it, reopen.
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** The shell command line that runs `argv` (argv[0] is the program). */
export function quoteCommand(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error('cannot run an empty command');
  return argv.map(quoteArg).join(' ');
}
