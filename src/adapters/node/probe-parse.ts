// Pure parsers for what the read-only probe commands print (probe.ts runs them). What the package managers print
// (installed versions, holds, repository listings) is parsed by the package-manager seam (./packages/).
import type { NodeReport } from '../../core/cluster-state.ts';

/** `kubeadm version -o short`: "v1.30.5" → "1.30.5". */
export function parseKubeadmShortVersion(text: string): string | undefined {
  const match = /^v?(\d+\.\d+\.\d+)\b/.exec(text.trim());
  return match?.[1];
}

/** `swapon --show --noheadings`: any line is an active swap device. */
export function parseSwapOn(text: string): boolean {
  return text.trim() !== '';
}

/** `df -B1 --output=avail PATH`: header "Avail", then bytes. */
export function parseDfAvail(text: string): number | undefined {
  const value = text
    .split('\n')
    .map((line) => line.trim())
    .find((line) => /^\d+$/.test(line));
  return value === undefined ? undefined : Number(value);
}

/** PRETTY_NAME from /etc/os-release. */
export function parseOsRelease(text: string): string | undefined {
  const match = /^PRETTY_NAME=(?:"([^"]*)"|(.*))$/m.exec(text);
  return match ? (match[1] ?? match[2])?.trim() : undefined;
}

/** Splits output made of `@@ name` header lines and their bodies into { name: body }. */
export function parseFactSections(text: string): Record<string, string> {
  const sections: Record<string, string> = {};
  let current: string | undefined;
  const body: string[] = [];
  const flush = () => {
    if (current !== undefined) sections[current] = body.join('\n');
    body.length = 0;
  };
  for (const line of text.split('\n')) {
    const header = /^@@ ([a-z-]+)$/.exec(line);
    if (header?.[1]) {
      flush();
      current = header[1];
    } else if (current !== undefined) body.push(line);
  }
  flush();
  return sections;
}

/**
 * The `login` section: `id -u`, `id -un`, then for a user other than root what `sudo -n true` printed and
 * `sudo-ok` when it succeeded. Undefined when the section is missing or unreadable.
 */
export function parseLogin(section: string): NodeReport['login'] {
  const lines = section
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const [uid = '', user = ''] = lines;
  if (!/^\d+$/.test(uid) || user === '') return undefined;
  if (uid === '0') return { user, root: true };
  if (lines.includes('sudo-ok')) return { user, root: false };
  return { user, root: false, sudoRefused: lines.slice(2).join(' ') || 'sudo -n true failed without a message' };
}
