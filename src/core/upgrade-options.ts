// The inputs of the commands that change the cluster (upgrade, control-plane, workers, node, verify), parsed
// once with zod; every problem names its input and the fix, like the core settings.
import { z } from 'zod';
import { InputError, type InputProblem, quoteValue } from './errors.ts';
import { inputField as field, type Fail } from './input-field.ts';
import type { InputReader } from './settings.ts';
import { parseLabelSelector } from './label-selector.ts';

export interface UpgradeOptions {
  drain: {
    timeoutMs: number;
    /** undefined: each pod's own terminationGracePeriodSeconds */
    gracePeriodSeconds?: number;
    deleteEmptyDirData: boolean;
    forceUnmanaged: boolean;
    podSelector?: string;
    fallbackDelete: boolean;
  };
  /** the worker batch of the `workers` command */
  /**
   * allow-pending-pods: the upgrade may go on when the other nodes have no room for a drained node's pods (they
   * wait Pending until it is back). Undefined: the default, true only for a single-node cluster.
   */
  allowPendingPods?: boolean;
  batch?: number;
  lockTtlMs: number;
  /** api-retry-budget: how long one Kubernetes API call is retried through transient faults (5xx, 429, refused/reset) */
  apiRetryBudgetMs: number;
  /** 0 = off; otherwise how long to wait after SIGTERM to kube-apiserver */
  gracefulApiserverStopMs: number;
  certificateRenewal: boolean;
  etcdUpgrade: boolean;
  /** image of the smoke pod `verify` starts; undefined = no smoke workload */
  verifyWorkload?: string;
  nodeReadyTimeoutMs: number;
  /** how long apt waits for the dpkg lock another process (unattended-upgrades) holds before it fails */
  packageLockTimeoutMs: number;
  /** the `node` command's node; undefined: this machine's host name (dispatch fills it in) */
  nodeName?: string;
  dryRun: boolean;
}

/** package-lock-timeout's default: 2 minutes. */
export const DEFAULT_PACKAGE_LOCK_TIMEOUT_MS = 120_000;

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "5m", "90s", "1h30m", "300" (seconds) → milliseconds. */
export function parseDuration(value: string): number | undefined {
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  if (!/^(\d+(ms|s|m|h))+$/.test(value)) return undefined;
  let total = 0;
  for (const m of value.matchAll(/(\d+)(ms|s|m|h)/g)) total += Number(m[1]) * UNITS[m[2]!]!;
  return total;
}

function duration(fallback: string, min: number, example: string) {
  return (v: string): number | Fail => {
    const ms = parseDuration(v === '' ? fallback : v);
    if (ms === undefined)
      return {
        problem: `${quoteValue(v)} is not a duration`,
        fix: `use a duration such as ${example} (units ms, s, m, h; a bare number is seconds)`,
      };
    if (ms < min) return { problem: `${quoteValue(v)} is shorter than ${min / 1000}s`, fix: `use a duration such as ${example}` };
    return ms;
  };
}

function bool(fallback: boolean) {
  return (v: string): boolean | Fail => {
    if (v === '') return fallback;
    if (['true', 'True', 'TRUE'].includes(v)) return true;
    if (['false', 'False', 'FALSE'].includes(v)) return false;
    return { problem: `${quoteValue(v)} is not a boolean`, fix: 'use true or false' };
  };
}

/** graceful-apiserver-stop: false, true (20 s, as the upstream docs wait), or a wait such as 30s. */
function gracefulStop(v: string): number | Fail {
  if (v === '' || /^false$/i.test(v)) return 0;
  if (/^true$/i.test(v)) return 20_000;
  const ms = parseDuration(v);
  return ms === undefined
    ? {
        problem: `${quoteValue(v)} is neither true/false nor a duration`,
        fix: 'use true (waits 20s, as the upstream docs do), false, or a wait such as 30s',
      }
    : ms;
}

const schema = z.object({
  'drain-timeout': field(duration('5m', 1000, '5m')),
  'drain-grace-period': field((v): number | undefined | Fail => {
    if (v === '' || v === '-1') return undefined;
    return /^\d{1,6}$/.test(v)
      ? Number(v)
      : {
          problem: `${quoteValue(v)} is not a number of seconds`,
          fix: "use seconds such as 30, or leave it empty for each pod's own grace period",
        };
  }),
  'delete-emptydir-data': field(bool(true)),
  'force-drain-unmanaged': field(bool(false)),
  'drain-pod-selector': field((v): string | undefined | Fail => {
    if (v === '') return undefined;
    try {
      parseLabelSelector(v);
      return v;
    } catch (error) {
      return {
        problem: `${quoteValue(v)} is not a label selector: ${(error as Error).message}`,
        fix: 'use a label selector such as app!=db or tier in (web,cache)',
      };
    }
  }),
  'drain-fallback-delete': field(bool(false)),
  'allow-pending-pods': field((v): boolean | undefined | Fail => (v === '' ? undefined : bool(false)(v))),
  batch: field((v): number | undefined | Fail =>
    v === ''
      ? undefined
      : /^\d{1,6}$/.test(v)
        ? Number(v)
        : { problem: `${quoteValue(v)} is not a batch index`, fix: 'pass the batch of a worker-matrix entry: batch: ${{ matrix.batch }}' },
  ),
  'lock-ttl': field(duration('30m', 60_000, '30m')),
  'api-retry-budget': field(duration('2m', 1000, '2m')),
  'graceful-apiserver-stop': field(gracefulStop),
  'certificate-renewal': field(bool(true)),
  'etcd-upgrade': field(bool(true)),
  'verify-workload': field((v): string | undefined | Fail =>
    v === ''
      ? undefined
      : /^[a-z0-9][a-z0-9./:@_-]*$/i.test(v)
        ? v
        : {
            problem: `${quoteValue(v)} is not an image reference`,
            fix: 'use a small image such as registry.k8s.io/pause:3.10, or leave it empty',
          },
  ),
  'node-ready-timeout': field(duration('5m', 1000, '5m')),
  'package-lock-timeout': field(duration(`${DEFAULT_PACKAGE_LOCK_TIMEOUT_MS / 1000}s`, 1000, '2m')),
  'node-name': field((v): string | undefined | Fail =>
    v === ''
      ? undefined
      : /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(v)
        ? v
        : {
            problem: `${quoteValue(v)} is not a node name`,
            fix: "use the Node object's name, or leave it empty for this machine's host name",
          },
  ),
  'dry-run': field(bool(false)),
});

/** Inputs this module reads (action.yml must declare them). */
export const UPGRADE_INPUTS = Object.keys(schema.shape) as (keyof typeof schema.shape)[];

/** Reads the inputs; throws InputError listing every problem. Pure (the host name default is the caller's). */
export function parseUpgradeOptions(read: InputReader, command: string): UpgradeOptions {
  const raw = Object.fromEntries(UPGRADE_INPUTS.map((name) => [name, read(name) ?? '']));
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const problems: InputProblem[] = [];
    for (const issue of parsed.error.issues) {
      const fix =
        issue.code === 'custom' && typeof issue.params?.fix === 'string' ? issue.params.fix : 'see the input description in action.yml';
      problems.push({ input: String(issue.path[0] ?? 'inputs'), problem: issue.message, fix });
    }
    throw new InputError(problems);
  }
  const v = parsed.data;
  if (command === 'workers' && v.batch === undefined) {
    throw new InputError([
      {
        input: 'batch',
        problem: 'is empty, and command workers upgrades one worker batch',
        fix: "pass the batch index from the plan's worker-matrix: batch: ${{ matrix.batch }}",
      },
    ]);
  }
  return {
    drain: {
      timeoutMs: v['drain-timeout'],
      ...(v['drain-grace-period'] !== undefined ? { gracePeriodSeconds: v['drain-grace-period'] } : {}),
      deleteEmptyDirData: v['delete-emptydir-data'],
      forceUnmanaged: v['force-drain-unmanaged'],
      ...(v['drain-pod-selector'] ? { podSelector: v['drain-pod-selector'] } : {}),
      fallbackDelete: v['drain-fallback-delete'],
    },
    ...(v['allow-pending-pods'] !== undefined ? { allowPendingPods: v['allow-pending-pods'] } : {}),
    ...(v.batch !== undefined ? { batch: v.batch } : {}),
    lockTtlMs: v['lock-ttl'],
    apiRetryBudgetMs: v['api-retry-budget'],
    gracefulApiserverStopMs: v['graceful-apiserver-stop'],
    certificateRenewal: v['certificate-renewal'],
    etcdUpgrade: v['etcd-upgrade'],
    ...(v['verify-workload'] ? { verifyWorkload: v['verify-workload'] } : {}),
    nodeReadyTimeoutMs: v['node-ready-timeout'],
    packageLockTimeoutMs: v['package-lock-timeout'],
    ...(v['node-name'] ? { nodeName: v['node-name'] } : {}),
    dryRun: v['dry-run'],
  };
}
