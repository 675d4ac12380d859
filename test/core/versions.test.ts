import { describe, expect, it } from 'vitest';
import { imageTag, parseTargetSpec, parseVersion, splitPackageVersion } from '../../src/core/versions.ts';

describe('parseTargetSpec', () => {
  it.each([
    ['v1.31.4', { major: 1, minor: 31, patch: 4 }],
    ['1.31.4', { major: 1, minor: 31, patch: 4 }],
    ['1.31', { major: 1, minor: 31 }],
    ['v1.31', { major: 1, minor: 31 }],
    [' 1.30.0 ', { major: 1, minor: 30, patch: 0 }],
    ['1.32.0-rc.1', { major: 1, minor: 32, patch: 0, prerelease: 'rc.1' }],
    ['1.32.0-alpha.2', { major: 1, minor: 32, patch: 0, prerelease: 'alpha.2' }],
  ])('accepts %s', (raw, want) => {
    const spec = parseTargetSpec(raw);
    expect(spec).toEqual({ raw: raw.trim(), ...want });
  });

  it.each(['1', '1.31.4.5', 'latest', 'v1.31.x', '1.031.4', '2.0.0', '1.31-rc.1', '1.31.4;id', '', '1.31.4-foo'])(
    'rejects %j with a message naming the expected form',
    (raw) => {
      const spec = parseTargetSpec(raw);
      expect(spec).toHaveProperty('problem');
      expect((spec as { problem: string }).problem).toMatch(/1\.31\.4|major/);
    },
  );
});

describe('parseVersion', () => {
  it.each([
    ['v1.30.5', '1.30.5', false],
    ['1.30.5', '1.30.5', false],
    ['1.31.0-rc.1', '1.31.0-rc.1', true],
    ['v1.30.5+k8s', '1.30.5', false],
  ])('%s → %s', (raw, text, pre) => {
    expect(parseVersion(raw)).toMatchObject({ text, prerelease: pre });
  });
  it.each(['', 'garbage', '1.30', undefined])('unreadable %j → undefined', (raw) => {
    expect(parseVersion(raw)).toBeUndefined();
  });
});

describe('splitPackageVersion', () => {
  it.each([
    ['1.30.5-1.1', { version: '1.30.5', revision: '1.1' }],
    ['1.30.5-150500.1.1', { version: '1.30.5', revision: '150500.1.1' }],
    ['1.31.0~rc.1-1.1', { version: '1.31.0-rc.1', revision: '1.1' }],
    ['1.30.7', { version: '1.30.7' }],
    ['1.32.0-rc.1', { version: '1.32.0-rc.1' }],
    ['1.32.0-rc.1-1.1', { version: '1.32.0-rc.1', revision: '1.1' }],
  ])('%s', (raw, want) => expect(splitPackageVersion(raw)).toEqual(want));
});

describe('imageTag', () => {
  it.each([
    ['registry.k8s.io/coredns/coredns:v1.11.3', 'v1.11.3'],
    ['localhost:5000/kube-proxy:v1.30.5', 'v1.30.5'],
    ['localhost:5000/kube-proxy', undefined],
    ['registry.k8s.io/kube-proxy:v1.30.5@sha256:abc', 'v1.30.5'],
  ])('%s', (image, tag) => expect(imageTag(image)).toBe(tag));
});
