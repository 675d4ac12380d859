// Validation of values that end up in SSH connections and shell command lines: node names, addresses,
// user names, labels. Anything with shell metacharacters, whitespace or a leading '-' is rejected here,
// long before a transport sees it.
import { isIP } from 'node:net';

const LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/i;
const MAX_DNS_LABEL = 63;
const MAX_DNS_NAME = 253;

/** Why `value` is not a DNS name (RFC 1123), or undefined when it is one. */
export function dnsNameProblem(value: string, opts: { lowercase: boolean }): string | undefined {
  if (value === '') return 'is empty';
  if (value.startsWith('-')) return 'starts with "-" (it would be read as a command-line option)';
  if (/\s/.test(value)) return 'contains whitespace';
  if (/[^A-Za-z0-9.-]/.test(value)) return 'contains characters other than letters, digits, "-" and "."';
  if (opts.lowercase && value !== value.toLowerCase()) return 'contains upper-case letters (Kubernetes node names are lower case)';
  if (value.length > MAX_DNS_NAME) return `is ${value.length} characters long (at most ${MAX_DNS_NAME})`;
  for (const label of value.split('.')) {
    if (label.length > MAX_DNS_LABEL) return `has a label of ${label.length} characters (at most ${MAX_DNS_LABEL} between dots)`;
    if (!LABEL.test(label))
      return `has an invalid label ${JSON.stringify(label.slice(0, 70))} (labels start and end with a letter or digit)`;
  }
  return undefined;
}

/** A Kubernetes node name: a lower-case DNS subdomain. */
export function nodeNameProblem(value: string): string | undefined {
  return dnsNameProblem(value, { lowercase: true });
}

/** An SSH address: an IPv4/IPv6 address or a host name. */
export function addressProblem(value: string): string | undefined {
  if (isIP(value) !== 0) return undefined;
  if (/^[0-9.]+$/.test(value)) return 'looks like an IPv4 address but is not a valid one';
  if (value.includes(':')) return 'looks like an IPv6 address but is not a valid one';
  const problem = dnsNameProblem(value, { lowercase: false });
  return problem === undefined ? undefined : `is neither an IP address nor a host name: it ${problem}`;
}

const USER = /^[A-Za-z_][A-Za-z0-9._-]{0,31}$/;

/** A POSIX-ish login name; no shell metacharacters, no leading '-'. */
export function userNameProblem(value: string): string | undefined {
  if (value === '') return 'is empty';
  if (value.startsWith('-')) return 'starts with "-" (it would be read as a command-line option)';
  if (value.length > 32) return `is ${value.length} characters long (at most 32)`;
  if (!USER.test(value)) return 'may contain only letters, digits, ".", "_" and "-", starting with a letter or "_"';
  return undefined;
}

export function portProblem(value: number): string | undefined {
  return Number.isInteger(value) && value >= 1 && value <= 65535 ? undefined : `${value} is not a TCP port (1-65535)`;
}

const LABEL_NAME = /^[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?$/;

/** A Kubernetes label key: optional DNS-subdomain prefix, "/", a name of at most 63 characters. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined) {
    const p = dnsNameProblem(prefix, { lowercase: true });
    if (p) return `has a prefix that ${p}`;
  }
  if (name.length === 0 || name.length > 63) return 'needs a name of 1-63 characters';
  if (!LABEL_NAME.test(name)) return 'may contain only letters, digits, "-", "_" and ".", starting and ending with a letter or digit';
  return undefined;
}

export function labelValueProblem(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 63) return `is ${value.length} characters long (at most 63)`;
  if (!LABEL_NAME.test(value)) return 'may contain only letters, digits, "-", "_" and ".", starting and ending with a letter or digit';
  return undefined;
}
