import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MEDIA_TYPES, createRegistryClient, isContainerError, sha256Digest } from '../src/index';
import type { TransferEvent } from '../src/index';
import { startTestRegistry } from '../src/testing';
import type { TestRegistry } from '../src/testing';
import { freePort } from '../src/testing';
import { htpasswdLine, makeSigningCert, startTokenServer } from './helpers';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

async function expectCode(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(isContainerError(e), `expected a ContainerError ${code}, got ${String(e)}`).toBe(true);
  expect((e as { code: string }).code).toBe(code);
  if (message) expect((e as Error).message).toMatch(message);
}

function manifestFor(config: Uint8Array, layer: Uint8Array): Uint8Array {
  return enc(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: {
        mediaType: MEDIA_TYPES.ociConfig,
        digest: sha256Digest(config),
        size: config.byteLength,
      },
      layers: [
        {
          mediaType: MEDIA_TYPES.ociLayerGzip,
          digest: sha256Digest(layer),
          size: layer.byteLength,
        },
      ],
    }),
  );
}

describe('registry client against a real registry (anonymous)', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startTestRegistry();
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it('uploads a blob monolithically, skips it when present, and reads it back verified', async () => {
    const events: TransferEvent[] = [];
    const client = createRegistryClient({ onProgress: (e) => events.push(e), dockerConfig: false });
    const data = randomBytes(5000);
    expect(await client.hasBlob(registry.host, 'mono/a', sha256Digest(data))).toBe(false);
    expect(await client.uploadBlob(registry.host, 'mono/a', data)).toEqual({
      status: 'uploaded',
      bytes: 5000,
    });
    expect(await client.hasBlob(registry.host, 'mono/a', sha256Digest(data))).toBe(true);
    expect(await client.uploadBlob(registry.host, 'mono/a', data)).toEqual({
      status: 'exists',
      bytes: 0,
    });
    expect(
      Buffer.from(await client.getBlob(registry.host, 'mono/a', sha256Digest(data), 5000)).equals(
        data,
      ),
    ).toBe(true);
    expect(events.map((e) => e.action)).toEqual(['upload', 'skip', 'download']);
  });

  it('uploads in chunks, following the new Location of every chunk (absolute, with a query string)', async () => {
    const events: TransferEvent[] = [];
    const client = createRegistryClient({
      chunkSize: 1000,
      onProgress: (e) => events.push(e),
      dockerConfig: false,
    });
    const data = randomBytes(3500);
    expect(await client.uploadBlob(registry.host, 'chunked/a', data)).toEqual({
      status: 'uploaded',
      bytes: 3500,
    });
    expect(events.map((e) => e.bytes)).toEqual([1000, 2000, 3000, 3500]);
    expect(
      Buffer.from(await client.getBlob(registry.host, 'chunked/a', sha256Digest(data))).equals(
        data,
      ),
    ).toBe(true);
  });

  it('mounts a blob from another repository of the same registry instead of uploading it', async () => {
    const client = createRegistryClient({ dockerConfig: false });
    const data = randomBytes(2048);
    await client.uploadBlob(registry.host, 'mount/source', data);
    const lazy = (): Promise<Uint8Array> =>
      Promise.reject(new Error('a mounted blob must not be read'));
    const r = await client.uploadBlob(registry.host, 'mount/dest', lazy, {
      digest: sha256Digest(data),
      size: 2048,
      mountFrom: 'mount/source',
    });
    expect(r).toEqual({ status: 'mounted', bytes: 0 });
    expect(await client.hasBlob(registry.host, 'mount/dest', sha256Digest(data))).toBe(true);
  });

  it('falls back to an upload when the mount source lacks the blob', async () => {
    const client = createRegistryClient({ dockerConfig: false });
    const data = randomBytes(100);
    const r = await client.uploadBlob(registry.host, 'mount/dest2', () => Promise.resolve(data), {
      digest: sha256Digest(data),
      mountFrom: 'mount/empty',
    });
    expect(r).toEqual({ status: 'uploaded', bytes: 100 });
  });

  it('refuses an upload whose bytes do not match the digest (DIGEST_MISMATCH)', async () => {
    const client = createRegistryClient({ dockerConfig: false });
    const wrong = sha256Digest(enc('something else'));
    await expectCode(
      client.uploadBlob(registry.host, 'bad/a', enc('hello'), { digest: wrong }),
      'DIGEST_MISMATCH',
      /DIGEST_INVALID|expected/,
    );
    expect(await client.hasBlob(registry.host, 'bad/a', wrong)).toBe(false);
  });

  it('detects a blob the registry serves corrupted (storage tampered on disk)', async () => {
    const client = createRegistryClient({ dockerConfig: false });
    const data = randomBytes(4096);
    const digest = sha256Digest(data);
    await client.uploadBlob(registry.host, 'tamper/a', data);
    const hex = digest.slice(7);
    const file = join(
      registry.storageDir,
      'docker/registry/v2/blobs/sha256',
      hex.slice(0, 2),
      hex,
      'data',
    );
    const stored = await readFile(file);
    stored[100] = (stored[100] ?? 0) ^ 0xff;
    await writeFile(file, stored);
    await expectCode(
      client.getBlob(registry.host, 'tamper/a', digest),
      'DIGEST_MISMATCH',
      new RegExp(digest),
    );
  });

  it('puts a manifest with its media type as Content-Type and reads it back byte for byte', async () => {
    const client = createRegistryClient({ dockerConfig: false });
    const config = enc(
      '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}',
    );
    const layer = randomBytes(64);
    await client.uploadBlob(registry.host, 'manifest/a', config);
    await client.uploadBlob(registry.host, 'manifest/a', layer);
    const bytes = manifestFor(config, layer);
    const put = await client.putManifest(
      registry.host,
      'manifest/a',
      'v1',
      bytes,
      MEDIA_TYPES.ociManifest,
    );
    expect(put.digest).toBe(sha256Digest(bytes));
    const got = await client.getManifest(registry.host, 'manifest/a', 'v1');
    expect(got.mediaType).toBe(MEDIA_TYPES.ociManifest);
    expect(got.digest).toBe(put.digest);
    expect(Buffer.from(got.bytes).equals(Buffer.from(bytes))).toBe(true);
    const res = await fetch(`http://${registry.host}/v2/manifest/a/manifests/v1`, {
      headers: { accept: MEDIA_TYPES.ociManifest },
    });
    expect(res.headers.get('content-type')).toBe(MEDIA_TYPES.ociManifest);
    expect(res.headers.get('docker-content-digest')).toBe(put.digest);
    expect(await client.listTags(registry.host, 'manifest/a')).toEqual(['v1']);
  });

  it('refuses a manifest whose blobs are missing, leaving the tag unset', async () => {
    const client = createRegistryClient({ dockerConfig: false });
    const bytes = manifestFor(enc('{}'), enc('never uploaded'));
    await expectCode(
      client.putManifest(registry.host, 'partial/a', 'v1', bytes, MEDIA_TYPES.ociManifest),
      'REGISTRY_ERROR',
      /BLOB_UNKNOWN|blob unknown/i,
    );
    expect(await client.headManifest(registry.host, 'partial/a', 'v1')).toBeUndefined();
  });

  it('names a missing tag (MANIFEST_NOT_FOUND) and a missing blob (BLOB_NOT_FOUND)', async () => {
    const client = createRegistryClient({ dockerConfig: false });
    await expectCode(
      client.getManifest(registry.host, 'nothing/here', 'v9'),
      'MANIFEST_NOT_FOUND',
      /nothing\/here:v9/,
    );
    await expectCode(
      client.getBlob(registry.host, 'nothing/here', sha256Digest(enc('x'))),
      'BLOB_NOT_FOUND',
    );
  });
});

describe('registry client: relative upload Locations', () => {
  it('resolves relative Locations (monolithic and chunked)', async () => {
    const registry = await startTestRegistry({ relativeUrls: true });
    try {
      const client = createRegistryClient({ chunkSize: 700, dockerConfig: false });
      const raw = await fetch(`http://${registry.host}/v2/rel/a/blobs/uploads/`, {
        method: 'POST',
      });
      expect(raw.headers.get('location')).toMatch(/^\/v2\/rel\/a\/blobs\/uploads\/[^?]+\?_state=/);
      await raw.body?.cancel();
      const big = randomBytes(2000);
      const small = randomBytes(300);
      expect((await client.uploadBlob(registry.host, 'rel/a', big)).status).toBe('uploaded');
      expect((await client.uploadBlob(registry.host, 'rel/a', small)).status).toBe('uploaded');
      expect(
        Buffer.from(await client.getBlob(registry.host, 'rel/a', sha256Digest(big))).equals(big),
      ).toBe(true);
    } finally {
      await registry.stop();
    }
  });
});

describe('registry client: unreachable registry', () => {
  it('retries with backoff, then ends with REGISTRY_UNREACHABLE naming the address', async () => {
    const port = await freePort();
    let calls = 0;
    const client = createRegistryClient({
      retries: 2,
      retryDelayMs: 5,
      dockerConfig: false,
      fetch: (input, init) => {
        calls++;
        return fetch(input, init);
      },
    });
    await expectCode(
      client.ping(`127.0.0.1:${port}`),
      'REGISTRY_UNREACHABLE',
      new RegExp(`127\\.0\\.0\\.1:${port}.*3 attempts`),
    );
    expect(calls).toBe(3);
  });
});

describe('registry client: basic auth (htpasswd)', () => {
  let registry: TestRegistry;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mlship-htpasswd-'));
    await writeFile(join(dir, 'htpasswd'), `${htpasswdLine('ci', 's3cret')}\n`);
    registry = await startTestRegistry({
      auth: { htpasswd: { realm: 'mlship-test', path: join(dir, 'htpasswd') } },
    });
  });
  afterAll(async () => {
    await registry?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('pushes and pulls with the right user and password', async () => {
    const client = createRegistryClient({
      credentials: { username: 'ci', password: 's3cret' },
      dockerConfig: false,
    });
    const data = randomBytes(500);
    expect((await client.uploadBlob(registry.host, 'private/a', data)).status).toBe('uploaded');
    expect(
      Buffer.from(await client.getBlob(registry.host, 'private/a', sha256Digest(data))).equals(
        data,
      ),
    ).toBe(true);
  });

  it('reads credentials from a Docker config file', async () => {
    const file = join(dir, 'config.json');
    await writeFile(
      file,
      JSON.stringify({
        auths: { [registry.host]: { auth: Buffer.from('ci:s3cret').toString('base64') } },
      }),
    );
    const client = createRegistryClient({ dockerConfig: file });
    await client.ping(registry.host);
  });

  it('ends with AUTH_FAILED for a wrong password and for no credentials', async () => {
    const wrong = createRegistryClient({
      credentials: { username: 'ci', password: 'nope' },
      dockerConfig: false,
    });
    await expectCode(
      wrong.ping(registry.host),
      'AUTH_FAILED',
      new RegExp(registry.host.replace(/\./g, '\\.')),
    );
    const none = createRegistryClient({ dockerConfig: false });
    await expectCode(
      none.hasBlob(registry.host, 'private/a', sha256Digest(enc('x'))),
      'AUTH_FAILED',
      /user name and password/,
    );
  });
});

describe('registry client: bearer token challenge', () => {
  let registry: TestRegistry;
  let dir: string;
  let tokens: Awaited<ReturnType<typeof startTokenServer>>;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mlship-token-'));
    const cert = makeSigningCert(dir);
    tokens = await startTokenServer({
      users: { ci: 'tok3n' },
      issuer: 'mlship-test-issuer',
      service: 'mlship-test-registry',
      certDer: cert.certDer,
      keyPem: cert.keyPem,
      allowAnonymousPull: true,
    });
    registry = await startTestRegistry({
      auth: {
        token: {
          realm: tokens.realm,
          service: 'mlship-test-registry',
          issuer: 'mlship-test-issuer',
          rootcertbundle: cert.certFile,
        },
      },
    });
  });
  afterAll(async () => {
    await registry?.stop();
    await tokens?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers the WWW-Authenticate challenge with a token for the repository scope, then reuses it', async () => {
    const client = createRegistryClient({
      credentials: { username: 'ci', password: 'tok3n' },
      dockerConfig: false,
    });
    const data = randomBytes(1500);
    expect((await client.uploadBlob(registry.host, 'team/model', data)).status).toBe('uploaded');
    expect(
      tokens.requests.some(
        (r) =>
          r.user === 'ci' &&
          r.service === 'mlship-test-registry' &&
          r.scopes.includes('repository:team/model:pull,push'),
      ),
    ).toBe(true);
    const before = tokens.requests.length;
    expect((await client.uploadBlob(registry.host, 'team/model', data)).status).toBe('exists');
    expect(tokens.requests.length - before).toBeLessThanOrEqual(1); // the pull scope of HEAD; push token reused
    expect(
      createHash('sha256')
        .update(await client.getBlob(registry.host, 'team/model', sha256Digest(data)))
        .digest('hex'),
    ).toBe(sha256Digest(data).slice(7));
  });

  it('mounts across repositories with a token covering both scopes', async () => {
    const client = createRegistryClient({
      credentials: { username: 'ci', password: 'tok3n' },
      dockerConfig: false,
    });
    const data = randomBytes(800);
    await client.uploadBlob(registry.host, 'team/base', data);
    const r = await client.uploadBlob(registry.host, 'team/app', data, { mountFrom: 'team/base' });
    expect(r.status).toBe('mounted');
    expect(
      tokens.requests.some(
        (q) =>
          q.scopes.includes('repository:team/base:pull') &&
          q.scopes.includes('repository:team/app:pull,push'),
      ),
    ).toBe(true);
  });

  it('ends with AUTH_FAILED when the token service refuses the password, and when anonymous may not push', async () => {
    const wrong = createRegistryClient({
      credentials: { username: 'ci', password: 'bad' },
      dockerConfig: false,
    });
    await expectCode(
      wrong.uploadBlob(registry.host, 'team/model', randomBytes(10)),
      'AUTH_FAILED',
      /token service.*refused user "ci"/,
    );
    const anonymous = createRegistryClient({ dockerConfig: false });
    await expectCode(
      anonymous.uploadBlob(registry.host, 'team/model', randomBytes(10)),
      'AUTH_FAILED',
    );
  });
});
