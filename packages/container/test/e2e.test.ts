// End to end, with no Docker engine and no network: a real registry (docker-registry) on 127.0.0.1,
// a base image built from this machine's node, the model-server image (@mlship/serve + a model
// saved by @mlship/model) pushed, re-pushed and pushed again after a model-only change; then skopeo
// copies it into an OCI layout, umoci (the strict validator) unpacks it, and runc runs it: the
// server answers its v2 ready route and a TF Serving :predict on 127.0.0.1, and stops on SIGTERM.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildHostNodeBase,
  containerize,
  createLayerCache,
  createRegistryClient,
  pushImage,
} from '../src/index';
import { expectServesModel, saveModel, waitFor } from './model-server';
import type { ContainerizeResult } from '../src/index';
import { freePort, startTestRegistry } from '../src/testing';
import type { TestRegistry } from '../src/testing';

const run = promisify(execFile);
const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const containerId = `mlship-e2e-${process.pid}-${randomBytes(3).toString('hex')}`;

let work: string;
let registry: TestRegistry;
let started = false;

async function runc(args: string[], cwd?: string): Promise<string> {
  const { stdout } = await run('runc', args, { ...(cwd ? { cwd } : {}), encoding: 'utf8' });
  return stdout;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'mlship-e2e-'));
  registry = await startTestRegistry();
});

afterAll(async () => {
  if (started) {
    await runc(['kill', containerId, 'KILL']).catch(() => undefined);
    await runc(['delete', '--force', containerId]).catch(() => undefined);
  }
  await registry?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('model-server image, end to end', () => {
  it('builds, pushes, re-pushes, updates the model, and runs under runc serving predictions', async () => {
    const client = createRegistryClient({ dockerConfig: false });
    const host = registry.host;

    // 1. A base image with no network: this machine's node + its ldd closure + a non-root user.
    const base = await buildHostNodeBase({ compressionLevel: 1 });
    const basePush = await pushImage(base, `${host}/mlship/node-base:host`, { client });
    expect(basePush.blobs.every((b) => b.status === 'uploaded')).toBe(true);

    // 2. The model-server image on that base, with a model saved by @mlship/model.
    // The v2 build reuses the dependency and server layers of v1 from the cache; gzip level 1 keeps
    // the test quick (reproducibility at the default level is image.test's and the benchmark's).
    const v1Dir = await saveModel(join(work, 'cnn-v1'), 1);
    const cache = createLayerCache();
    const build = (model: string, version: number): Promise<ContainerizeResult> =>
      containerize({
        model,
        base: `${host}/mlship/node-base:host`,
        client,
        projectDir: packageDir,
        version,
        ref: `cnn@v${version}.0.0`,
        gitCommit: 'c0ffee1',
        cache,
        compressionLevel: 1,
      });
    const v1 = await build(v1Dir, 1);
    expect(v1.server.name).toBe('@mlship/serve');
    expect(v1.command).toEqual([
      'node',
      '/app/node_modules/@mlship/serve/dist/bin.js',
      '--model',
      'cnn=/models/cnn',
      '--host',
      '0.0.0.0',
      '--port',
      '8080',
    ]);
    const repo = `${host}/mlship/cnn-server`;
    const first = await pushImage(v1.image, `${repo}:v1`, { client });
    expect(first.blobs.filter((b) => b.status === 'mounted').map((b) => b.digest)).toEqual(
      base.layers.map((l) => l.descriptor.digest),
    );

    // 3. Pushed again: every blob is skipped.
    const again = await pushImage(v1.image, `${repo}:v1`, { client });
    expect(again.blobs.map((b) => b.status)).toEqual(again.blobs.map(() => 'exists'));

    // 4. Only the model version changes: only the model layers (and the config) are uploaded.
    const v2 = await build(await saveModel(join(work, 'cnn-v2'), 2), 2);
    const second = await pushImage(v2.image, `${repo}:v2`, { client });
    const modelLayers = v2.layers
      .filter((l) => l.role === 'model-weights' || l.role === 'model-metadata')
      .map((l) => l.digest);
    expect(second.blobs.filter((b) => b.status === 'uploaded').map((b) => b.digest)).toEqual([
      ...modelLayers,
      v2.image.configBlob.descriptor.digest,
    ]);
    expect(
      v2.layers.filter((l, i) => l.digest !== v1.layers[i]?.digest).map((l) => l.role),
    ).toEqual(['model-weights', 'model-metadata']);

    // 5. skopeo copies it out of the registry into an OCI layout; umoci validates and unpacks it.
    const layout = join(work, 'oci');
    await run('skopeo', [
      'copy',
      '--src-tls-verify=false',
      `docker://${repo}:v2`,
      `oci:${layout}:v2`,
    ]);
    const inspected = JSON.parse(
      (await run('skopeo', ['inspect', `oci:${layout}:v2`], { encoding: 'utf8' })).stdout,
    ) as { Digest: string; Labels: Record<string, string> };
    expect(inspected.Digest).toBe(v2.image.digest);
    expect(inspected.Labels['dev.mlship.model.ref']).toBe('cnn@v2.0.0');
    const bundle = join(work, 'bundle');
    await run('umoci', ['unpack', '--image', `${layout}:v2`, bundle]);

    // 6. runc: no terminal, the host's network namespace, the server on 127.0.0.1 and a free port.
    const port = await freePort();
    const configFile = join(bundle, 'config.json');
    const spec = JSON.parse(readFileSync(configFile, 'utf8')) as {
      process: { terminal: boolean; args: string[]; user: { uid: number } };
      linux: { namespaces: { type: string }[] };
    };
    expect(spec.process.user.uid).toBe(1000);
    spec.process.terminal = false;
    spec.linux.namespaces = spec.linux.namespaces.filter((n) => n.type !== 'network');
    spec.process.args = spec.process.args.map((a, i, all) =>
      all[i - 1] === '--host' ? '127.0.0.1' : all[i - 1] === '--port' ? String(port) : a,
    );
    writeFileSync(configFile, JSON.stringify(spec));
    const log = join(work, 'server.log');
    const fd = openSync(log, 'w');
    try {
      const code = await new Promise<number | null>((resolve, reject) => {
        const child = spawn(
          'runc',
          ['run', '-d', '--pid-file', join(work, 'server.pid'), containerId],
          { cwd: bundle, stdio: ['ignore', fd, fd] },
        );
        child.once('error', reject);
        child.once('exit', resolve);
      });
      started = true;
      expect(code).toBe(0);
    } finally {
      closeSync(fd);
    }
    const pid = Number(readFileSync(join(work, 'server.pid'), 'utf8'));
    expect(pid).toBeGreaterThan(0);

    // 7. The server inside answers: v2 ready, then a TF Serving :predict.
    await expectServesModel(`http://127.0.0.1:${port}`, 2, () => readFile(log, 'utf8'));

    // 8. SIGTERM: the server drains and exits; the container is deleted.
    await runc(['kill', containerId, 'TERM']);
    await waitFor('the container to stop', 30_000, async () => {
      const state = JSON.parse(await runc(['state', containerId])) as { status: string };
      return state.status === 'stopped' ? state : undefined;
    });
    await runc(['delete', containerId]);
    started = false;
    expect(readFileSync(log, 'utf8')).toMatch(/SIGTERM/);
  }, 480_000); // 21 s idle, 125 s with the whole suite beside it
});
