// Markdown building blocks for the job summary and the PR comment. Everything that came from the cluster
// (pod names, messages quoting user values) is escaped: it must not open HTML tags or break a table.

/** Escapes text for a Markdown paragraph or list item. */
export function text(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r?\n/g, ' ');
}

/** Escapes text for a table cell. */
export function cell(value: string | number): string {
  return text(String(value)).replace(/\|/g, '\\|');
}

export function table(headers: string[], rows: (string | number)[][]): string {
  if (rows.length === 0) return '';
  const head = `| ${headers.join(' | ')} |\n| ${headers.map(() => '---').join(' | ')} |`;
  return `${head}\n${rows.map((r) => `| ${r.map(cell).join(' | ')} |`).join('\n')}\n`;
}

export function details(summary: string, body: string): string {
  return `<details><summary>${text(summary)}</summary>\n\n${body}\n</details>\n`;
}

export function code(value: string): string {
  return `\`${value.replace(/`/g, "'")}\``;
}

export const SEVERITY_ICON: Record<string, string> = { mandatory: '⛔', forceable: '⚠️', warning: '🟡', ok: '✅' };

export function severityLabel(severity: string, forced?: boolean): string {
  if (forced) return '⚠️ forced';
  return `${SEVERITY_ICON[severity] ?? ''} ${severity}`;
}

export function count(n: number): string {
  return n.toLocaleString('en-US');
}
