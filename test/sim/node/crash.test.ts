// A supervisor killed outright (SIGKILL, as `down` does when SIGTERM is not enough) must still
// take its node with it: sshd and etcd by their parent-death signal, open sessions by watching it.
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFakeApi, type FakeApi } from './fake-api.ts';
import { buildNodeFixture, etcdctl, randomSubnet, ssh, startSupervisor, waitFor, type NodeFixture } from './fixture.ts';
import { exited, mountNamespaceOf, mountsMentioning, processesIn, stopIfRunning } from './node-teardown.ts';

let f: NodeFixture;
let api: FakeApi;
let supervisor: ChildProcess;

beforeAll(async () => {
  f = await buildNodeFixture(randomSubnet(), { heartbeatMs: 500, kubeletRestartMs: 500, podStartMs: 100, podStopMs: 100 });
  api = await startFakeApi(f.cluster.apiServer.address, f.cluster.apiServer.port, f.apiPki);
  supervisor = startSupervisor(f);
  await waitFor('sshd on the node', async () => ((await ssh(f, 'true')).code === 0 ? true : undefined));
  await waitFor('etcd on the node', async () => ((await etcdctl(f, ['endpoint', 'health'])).code === 0 ? true : undefined));
});

afterAll(async () => {
  await stopIfRunning(supervisor);
  await api?.close();
  if (f && !process.env.SIM_NODE_KEEP) rmSync(f.dir, { recursive: true, force: true });
});

it('leaves nothing running or mounted when the supervisor is killed with SIGKILL', async () => {
  const namespace = mountNamespaceOf(supervisor.pid ?? 0) ?? '';
  const session = ssh(f, 'sleep 300 & sleep 301');
  await waitFor('the ssh session to start', () => (processesIn(namespace).some((p) => p.includes('sleep 301')) ? true : undefined));

  supervisor.kill('SIGKILL');
  await exited(supervisor);
  expect((await session).code).toBe(255);
  const left = await waitFor('the node processes to end', () => (processesIn(namespace).length === 0 ? 'none' : undefined), 10_000).catch(
    () => processesIn(namespace).join('\n'),
  );
  expect(left).toBe('none');
  expect(mountsMentioning(join(f.nodeDir, 'upper'))).toEqual([]);
});
