// kubeadm's flags, version strings, error shapes and tables.

export class KubeadmError extends Error {}

export interface Semver {
  major: number;
  minor: number;
  patch: number;
  pre: string;
}

const SEMVER = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?$/;

export function parseSemver(text: string): Semver | undefined {
  const m = SEMVER.exec(text.trim());
  return m ? { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), pre: m[4] ?? '' } : undefined;
}

export function compareSemver(a: Semver, b: Semver): number {
  const byNumbers = a.major - b.major || a.minor - b.minor || a.patch - b.patch;
  if (byNumbers !== 0) return byNumbers;
  if (a.pre === b.pre) return 0;
  if (a.pre === '') return 1;
  if (b.pre === '') return -1;
  return a.pre < b.pre ? -1 : 1;
}

export function vstr(v: Semver): string {
  return `v${v.major}.${v.minor}.${v.patch}${v.pre ? `-${v.pre}` : ''}`;
}

/** Go's time.Duration String(): 5m0s, 2s, 300ms. */
export function goDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const totalSeconds = ms / 1000;
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = Number((totalSeconds % 60).toFixed(3));
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}

export interface Flags {
  positional: string[];
  values: Map<string, string>;
}

const SHORT: Record<string, string> = { '-y': '--yes', '-f': '--force', '-o': '--output' };
const TAKES_VALUE = new Set(['--output', '--ignore-preflight-errors', '--kubeconfig', '--config', '--v', '--skip-phases', '--patches']);

/** cobra-style flags: --name=value, --name value (for value flags), bare booleans, -y/-f/-o shorthands. */
export function parseFlags(args: string[]): Flags {
  const flags: Flags = { positional: [], values: new Map() };
  for (let i = 0; i < args.length; i++) {
    const raw = args[i] ?? '';
    if (!raw.startsWith('-')) {
      flags.positional.push(raw);
      continue;
    }
    const eq = raw.indexOf('=');
    let name = eq >= 0 ? raw.slice(0, eq) : raw;
    name = SHORT[name] ?? (name.startsWith('--') ? name : `-${name}`);
    if (/^-v\d+$/.test(raw)) name = '--v';
    let value = eq >= 0 ? raw.slice(eq + 1) : undefined;
    if (value === undefined && TAKES_VALUE.has(name)) value = args[++i] ?? '';
    flags.values.set(name, value ?? 'true');
  }
  return flags;
}

export function boolFlag(flags: Flags, name: string, fallback: boolean): boolean {
  const value = flags.values.get(name);
  if (value === undefined) return fallback;
  if (!['true', 'false', '1', '0'].includes(value))
    throw new KubeadmError(`invalid argument "${value}" for "${name}" flag: strconv.ParseBool: parsing "${value}": invalid syntax`);
  return value === 'true' || value === '1';
}

/** Go tabwriter with padding 3 and left alignment, as kubeadm prints its tables. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return `${rows
    .map((row) =>
      row
        .map((cell, i) => (i < row.length - 1 ? cell.padEnd((widths[i] ?? 0) + 3) : cell))
        .join('')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

export const STACK_HINT = 'To see the stack trace of this error execute with --v=5 or higher';

/** YYYY-MM-DD-HH-MM-SS in local time, as kubeadm names its backup directories. */
export function backupStamp(now: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${now.getFullYear()}-${p(now.getMonth() + 1)}-${p(now.getDate())}-${p(now.getHours())}-${p(now.getMinutes())}-${p(now.getSeconds())}`;
}
