/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return -- HTTP response bodies are untyped JSON; every one is checked by the assertions */
import { createHash } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { openRegistry } from '@mlship/registry';
import type { Registry } from '@mlship/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MlshipServer } from '../src/index';
import { call, copyFixture, digit, pngOf, post, removeAll, serve, tempDir } from './helpers';

let root: string;
let registry: Registry;
let registryDir: string;
let body: unknown;

/** A copy of fixture v2 whose dense weights are all NaN, with mlship.json hashes that match (it passes verification). */
async function brokenCopy(dest: string): Promise<string> {
  await copyFixture('v2', dest);
  const metaPath = path.join(dest, 'mlship.json');
  const meta = JSON.parse(await readFile(metaPath, 'utf8')) as {
    files: Record<string, { sha256: string; bytes: number }>;
  };
  const file = Object.keys(meta.files).find((f) => f.includes('dense1')) as string;
  const nan = new Float32Array(meta.files[file]!.bytes / 4).fill(Number.NaN);
  const bytes = Buffer.from(nan.buffer);
  await writeFile(path.join(dest, file), bytes);
  meta.files[file] = {
    sha256: createHash('sha256').update(bytes).digest('hex'),
    bytes: bytes.length,
  };
  await writeFile(metaPath, JSON.stringify(meta, null, 2));
  return dest;
}

/** `clients` loops of :predict until `stop()`; returns every status and answering version in order. */
function steadyLoad(
  url: string,
  clients: number,
): { stop: () => Promise<{ status: number; version: string | null; client: number }[]> } {
  let running = true;
  const seen: { status: number; version: string | null; client: number }[] = [];
  const loops = Array.from({ length: clients }, async (_, client) => {
    while (running) {
      try {
        const res = await fetch(`${url}/v1/models/cnn/labels/production:predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        await res.arrayBuffer();
        seen.push({ status: res.status, version: res.headers.get('x-model-version'), client });
      } catch {
        seen.push({ status: 0, version: null, client });
      }
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return seen;
    },
  };
}

async function until(check: () => Promise<boolean>, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  root = await tempDir('swap');
  registryDir = path.join(root, 'registry');
  registry = await openRegistry({ dir: registryDir });
  await registry.register('cnn', await copyFixture('v1', path.join(root, 'in-v1')), {
    stages: ['production', 'staging'],
  });
  body = { instances: [{ b64: pngOf(await digit(0)).toString('base64') }] };
}, 300_000);

afterAll(async () => {
  await removeAll(root);
});

describe('hot swap of a registry stage', () => {
  it('under steady concurrent load: the new production version is swapped in with zero failed requests, a broken one is refused', async () => {
    const { server, url } = await serve({
      models: [{ name: 'cnn', source: { registry: registryDir, ref: 'cnn#production' } }],
      watch: { intervalMs: 100 },
    });
    try {
      const load = steadyLoad(url, 8);
      await new Promise((r) => setTimeout(r, 500));
      await registry.register('cnn', await copyFixture('v2', path.join(root, 'in-v2')), {
        stages: ['production'],
      });
      // Responses switch to version 2 once the watcher has loaded, verified and warmed it up.
      await until(
        async () =>
          (await call(`${url}/v1/models/cnn/labels/production/metadata`)).body.model_spec
            .version === '2',
      );
      await new Promise((r) => setTimeout(r, 500));
      // A broken version 3 (NaN weights) is assigned to production: refused, version 2 keeps serving.
      await registry.register('cnn', await brokenCopy(path.join(root, 'in-v3')), {
        stages: ['production'],
      });
      await until(async () =>
        (await call(`${url}/v1/models/cnn`)).body.model_version_status.some(
          (s: { version: string }) => s.version === '3',
        ),
      );
      await new Promise((r) => setTimeout(r, 500));
      const seen = await load.stop();

      expect(seen.length).toBeGreaterThan(50);
      expect(seen.filter((s) => s.status !== 200)).toEqual([]);
      const versions = seen.map((s) => s.version);
      expect(versions).toContain('1');
      expect(versions).toContain('2');
      expect(versions).not.toContain('3');
      // Atomic per client: once a client saw version 2 it never sees version 1 again.
      for (let c = 0; c < 8; c++) {
        const mine = seen.filter((s) => s.client === c).map((s) => s.version);
        expect(mine.slice(mine.indexOf('2'))).not.toContain('1');
      }
      const status = await call(`${url}/v1/models/cnn`);
      expect(status.body.model_version_status).toEqual([
        { version: '2', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } },
        {
          version: '3',
          state: 'END',
          status: {
            error_code: 'FAILED_PRECONDITION',
            error_message: expect.stringMatching(
              /version 3 .*non-finite value \(NaN\).*the weights are broken/,
            ),
          },
        },
      ]);
      const v3 = await post(`${url}/v1/models/cnn/versions/3:predict`, body);
      expect(v3.status).toBe(404);
      expect(v3.body.error).toMatch(/version 3 is not available: it failed to load/);
      expect((await call(`${url}/v2/health/ready`)).status).toBe(200);
      expect(server.status()[0]).toMatchObject({
        name: 'cnn',
        defaultVersion: 2,
        labels: { production: 2 },
        ready: true,
      });
      const metrics = (await call(`${url}/metrics`)).body as string;
      expect(metrics).toMatch(
        /mlship_model_versions_loaded\{model="cnn",version="2",state="AVAILABLE"\} 1/,
      );
      expect(metrics).not.toMatch(/mlship_model_versions_loaded\{model="cnn",version="1"/);
    } finally {
      await server.stop();
    }
  }, 180_000);

  it('serves several stages and fixed versions of one model at once; labels map to stages', async () => {
    await registry.assign('cnn@v1', 'staging');
    await registry.assign('cnn@v2', 'production');
    const { server, url } = await serve({
      models: [
        {
          name: 'cnn',
          source: [
            { registry: registryDir, ref: 'cnn#production' },
            { registry: registryDir, ref: 'cnn#staging' },
            { registry: registryDir, ref: 'cnn@v1' },
          ],
        },
      ],
    });
    try {
      const staging = await post(`${url}/v1/models/cnn/labels/staging:predict`, body);
      expect([staging.status, staging.body.model_version]).toEqual([200, '1']);
      const byDefault = await post(`${url}/v1/models/cnn:predict`, body);
      expect(byDefault.headers.get('x-model-version')).toBe('2');
      const v1 = await post(`${url}/v2/models/cnn/versions/1/infer`, {
        inputs: [
          {
            name: 'input',
            shape: [1],
            datatype: 'BYTES',
            data: [(body as { instances: { b64: string }[] }).instances[0]!.b64],
          },
        ],
      });
      expect(v1.body.model_version).toBe('1');
      const status = await call(`${url}/v1/models/cnn/labels/production`);
      expect(status.body.model_version_status.map((s: { version: string }) => s.version)).toEqual([
        '2',
      ]);
      expect(server.status()[0]?.labels).toEqual({ production: 2, staging: 1 });
      expect((await call(`${url}/v2/models/cnn`)).body.versions).toEqual(['1', '2']);
    } finally {
      await server.stop();
    }
  }, 180_000);
});

describe('hot reload of a model directory', () => {
  it('a directory saved over is served as the next version; a tampered one is refused and the old version kept', async () => {
    const dir = await copyFixture('v1', path.join(root, 'served'));
    const { server, url } = await serve({ models: [{ name: 'cnn', source: dir }] });
    let server2: MlshipServer | undefined;
    try {
      expect((await post(`${url}/v1/models/cnn:predict`, body)).body.model_version).toBe('1');
      // Replace the directory atomically with version 2 (what saveModelDir({ overwrite }) does).
      const next = await copyFixture('v2', path.join(root, 'served-next'));
      await rename(dir, path.join(root, 'served-old'));
      await rename(next, dir);
      await server.refresh();
      const r = await post(`${url}/v1/models/cnn:predict`, body);
      expect([r.status, r.body.model_version]).toEqual([200, '2']);
      // Tamper: mlship.json now lists a hash the weights do not have.
      const metaPath = path.join(dir, 'mlship.json');
      const meta = JSON.parse(await readFile(metaPath, 'utf8')) as {
        files: Record<string, { sha256: string }>;
      };
      const first = Object.keys(meta.files).find((f) => f.endsWith('.bin')) as string;
      meta.files[first]!.sha256 = '0'.repeat(64);
      await writeFile(metaPath, JSON.stringify(meta));
      await server.refresh();
      const after = await post(`${url}/v1/models/cnn:predict`, body);
      expect([after.status, after.body.model_version]).toEqual([200, '2']);
      const status = await call(`${url}/v1/models/cnn`);
      expect(status.body.model_version_status[1]).toMatchObject({
        version: '3',
        state: 'END',
        status: {
          error_code: 'DATA_LOSS',
          error_message: expect.stringMatching(/expected sha256 0{64}/),
        },
      });
      // Starting a server on a tampered directory fails with the shared code.
      await expect(
        serve({ models: [{ name: 'cnn', source: dir }] }).then((s) => (server2 = s.server)),
      ).rejects.toMatchObject({ name: 'ServeError', code: 'INTEGRITY' });
    } finally {
      await server.stop();
      await server2?.stop();
    }
  }, 180_000);
});
