import { describe, expect, it } from 'vitest';
import { formatReference, parseReference } from './reference';
import { parsePlatform } from './image';
import { parseChallenge } from './registry/auth';
import { isContainerError } from './errors';

const D = `sha256:${'a'.repeat(64)}`;

describe('parseReference', () => {
  it.each([
    ['node', { registry: 'docker.io', repository: 'library/node', tag: 'latest' }],
    ['node:20-slim', { registry: 'docker.io', repository: 'library/node', tag: '20-slim' }],
    ['acme/cnn:v1', { registry: 'docker.io', repository: 'acme/cnn', tag: 'v1' }],
    [
      '127.0.0.1:5000/acme/cnn:v2',
      { registry: '127.0.0.1:5000', repository: 'acme/cnn', tag: 'v2' },
    ],
    ['localhost/cnn', { registry: 'localhost', repository: 'cnn', tag: 'latest' }],
    [`ghcr.io/a/b/c@${D}`, { registry: 'ghcr.io', repository: 'a/b/c', digest: D }],
    [`ghcr.io/a/b:t@${D}`, { registry: 'ghcr.io', repository: 'a/b', tag: 't', digest: D }],
    [
      'index.docker.io/library/node:20',
      { registry: 'docker.io', repository: 'library/node', tag: '20' },
    ],
  ])('%s', (ref, expected) => {
    expect(parseReference(ref)).toEqual(expected);
  });

  it.each([
    ['', /empty/],
    ['Acme/cnn', /lowercase/],
    ['acme/cnn:bad tag', /tag/],
    ['acme/cnn@sha256:123', /digest/],
    ['acme//cnn', /lowercase/],
  ])('refuses %j with INVALID_REFERENCE', (ref, message) => {
    let e: unknown;
    try {
      parseReference(ref);
    } catch (x) {
      e = x;
    }
    expect(isContainerError(e) && e.code === 'INVALID_REFERENCE').toBe(true);
    expect((e as Error).message).toMatch(message);
  });

  it('formats back', () => {
    expect(formatReference(parseReference('node:20'))).toBe('docker.io/library/node:20');
  });
});

describe('parsePlatform', () => {
  it('parses os/arch[/variant] and refuses nonsense', () => {
    expect(parsePlatform('linux/arm64/v8')).toEqual({
      os: 'linux',
      architecture: 'arm64',
      variant: 'v8',
    });
    expect(parsePlatform({ os: 'linux', architecture: 'amd64' })).toEqual({
      os: 'linux',
      architecture: 'amd64',
    });
    expect(() => parsePlatform('amd64')).toThrow(/os\/arch/);
  });
});

describe('parseChallenge', () => {
  it('reads a Bearer challenge with quoted, comma-bearing values', () => {
    expect(
      parseChallenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/node:pull,push"',
      ),
    ).toEqual({
      scheme: 'bearer',
      params: {
        realm: 'https://auth.docker.io/token',
        service: 'registry.docker.io',
        scope: 'repository:library/node:pull,push',
      },
    });
    expect(parseChallenge('Basic realm="x"')).toEqual({ scheme: 'basic', params: { realm: 'x' } });
  });
});
