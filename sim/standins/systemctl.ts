// systemctl: kubelet start/stop/restart (NodeState + SIGHUP to the node supervisor), is-active, status.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { installedVersion, readState, updateState, type ToolContext } from './context.ts';

function unitName(arg: string | undefined): string {
  return (arg ?? '').replace(/\.service$/, '');
}

/** Tells the supervisor the kubelet changed (it re-reads state.json). No supervisor (unit tests): nothing to tell. */
function notifySupervisor(ctx: ToolContext): void {
  const pidFile = join(ctx.nodeDir, 'supervisor.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 1) return;
  try {
    process.kill(pid, 'SIGHUP');
  } catch {
    // supervisor gone: the node is down anyway
  }
}

function status(ctx: ToolContext, quiet: boolean): number {
  const state = readState(ctx);
  if (!quiet) {
    ctx.out(
      '● kubelet.service - kubelet: The Kubernetes Node Agent\n' +
        '     Loaded: loaded (/lib/systemd/system/kubelet.service; enabled; vendor preset: enabled)\n' +
        '    Drop-In: /usr/lib/systemd/system/kubelet.service.d\n             └─10-kubeadm.conf\n' +
        (state.kubelet.active ? '     Active: active (running)\n' : '     Active: inactive (dead)\n') +
        '       Docs: https://kubernetes.io/docs/\n',
    );
  }
  return state.kubelet.active ? 0 : 3;
}

export async function systemctl(ctx: ToolContext, argv: string[]): Promise<number> {
  const quiet = argv.includes('-q') || argv.includes('--quiet');
  const [verb, ...units] = argv.filter((a) => !a.startsWith('-'));
  if (verb === 'daemon-reload') return 0;
  if (!verb) {
    ctx.err('systemctl: the simulated systemctl needs a verb\n');
    return 1;
  }
  if (!units.map(unitName).includes('kubelet')) return 0; // other units: accepted, nothing to do
  switch (verb) {
    case 'restart':
    case 'start':
    case 'try-restart':
    case 'reload-or-restart':
      updateState(ctx, (s) => {
        s.kubelet.active = true;
        s.kubelet.version = installedVersion(ctx, 'kubelet');
      });
      notifySupervisor(ctx);
      return 0;
    case 'stop':
      updateState(ctx, (s) => {
        s.kubelet.active = false;
      });
      notifySupervisor(ctx);
      return 0;
    case 'is-active': {
      const active = readState(ctx).kubelet.active;
      if (!quiet) ctx.out(active ? 'active\n' : 'inactive\n');
      return active ? 0 : 3;
    }
    case 'is-enabled':
      if (!quiet) ctx.out('enabled\n');
      return 0;
    case 'status':
      return status(ctx, quiet);
    default:
      return 0;
  }
}
