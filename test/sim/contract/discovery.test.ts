// /version and /readyz: what the Action reads before anything else (server version, health).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VersionApi } from '@kubernetes/client-node';
import { openContractTarget, type ContractTarget } from './target.ts';
import { describeResponse, rawRequest } from './raw.ts';

let target: ContractTarget;

beforeAll(async () => {
  target = await openContractTarget();
});
afterAll(async () => {
  await target?.close();
});

describe('/version', () => {
  it('answers 200 JSON with major, minor and a gitVersion that agrees with them', async () => {
    const response = await rawRequest(target.kubeconfig, { method: 'GET', path: '/version' });
    expect(response.status, describeResponse(response)).toBe(200);
    expect(response.contentType).toMatch(/^application\/json/);
    const info = response.json;
    expect(info.major).toMatch(/^\d+$/);
    expect(info.minor).toMatch(/^\d+\+?$/);
    expect(info.gitVersion).toMatch(/^v\d+\.\d+\.\d+/);
    const minor = String(info.minor).replace('+', '');
    expect(info.gitVersion.startsWith(`v${info.major}.${minor}.`)).toBe(true);
    expect(info.platform).toMatch(/^[a-z0-9]+\/[a-z0-9]+$/);
  });

  it('is what client-node VersionApi.getCode returns', async () => {
    const info = await target.kubeconfig.makeApiClient(VersionApi).getCode();
    expect(info.gitVersion).toMatch(/^v\d+\.\d+\.\d+/);
    expect(typeof info.major).toBe('string');
  });
});

describe('/readyz', () => {
  it('answers 200 "ok" when the server is ready', async () => {
    const response = await rawRequest(target.kubeconfig, { method: 'GET', path: '/readyz' });
    expect(response.status, describeResponse(response)).toBe(200);
    expect(response.text).toBe('ok');
  });
});
