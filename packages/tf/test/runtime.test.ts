import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  TfError,
  getRuntimeInfo,
  initRuntime,
  isTfError,
  patchBatchNormalization,
  tf,
} from '../src/index';
import { buildPrivateCjs } from './helpers';

const run = promisify(execFile);

describe('initRuntime', () => {
  it('shares one promise between concurrent calls and picks wasm when tfjs-node is absent', async () => {
    expect(getRuntimeInfo()).toBeUndefined();
    const a = initRuntime({ env: {} });
    const b = initRuntime({ env: {} });
    expect(b).toBe(a);
    const info = await a;
    expect(info.backend).toBe('wasm');
    expect(info.requested).toBe('auto');
    expect(info.reason).toMatch(
      /^auto: @tensorflow\/tfjs-node not installed \(Cannot find module '@tensorflow\/tfjs-node'.*\); using wasm \((no )?SIMD/,
    );
    expect(Array.isArray(info.kernels)).toBe(true);
    expect(info.threads).toBe(1);
    expect(tf.getBackend()).toBe('wasm');
    expect(getRuntimeInfo()).toEqual(info);
    // The BatchNormalization fix is part of the runtime set-up.
    expect(patchBatchNormalization()).toBe(false);
  });

  it.each([
    [{ backend: 'cpu' as const }, 'cpu', /^requested by options\.backend; using cpu/],
    [{ env: { MLSHIP_BACKEND: 'wasm' } }, 'wasm', /^requested by MLSHIP_BACKEND=wasm; using wasm/],
    [{ env: { MLSHIP_BACKEND: ' CPU ' } }, 'cpu', /^requested by MLSHIP_BACKEND= CPU ; using cpu/],
    [
      { backend: 'wasm' as const, env: { MLSHIP_BACKEND: 'cpu' } },
      'wasm',
      /^requested by options\.backend/,
    ],
  ])(
    'honours an explicit choice %j -> %s, switching backends',
    async (options, backend, reason) => {
      const info = await initRuntime(options);
      expect(info.backend).toBe(backend);
      expect(info.requested).toBe(backend);
      expect(info.reason).toMatch(reason);
      expect(tf.getBackend()).toBe(backend);
      // Work actually runs on the chosen backend.
      expect(Array.from(await tf.add(tf.tensor1d([1, 2]), tf.scalar(1)).data())).toEqual([2, 3]);
    },
  );

  it('keeps the current backend when a later call has no explicit choice', async () => {
    await initRuntime({ backend: 'cpu' });
    const info = await initRuntime({ env: {} });
    expect(info.backend).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
  });

  it('notices a direct tf.setBackend and sets the runtime up again', async () => {
    await initRuntime({ backend: 'wasm' });
    await tf.setBackend('cpu');
    const info = await initRuntime({ backend: 'wasm' });
    expect(info.backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it.each([
    [
      { backend: 'gpu' },
      /^Unknown backend "gpu" \(from options\.backend\); expected one of auto, tensorflow \(alias tfjs-node\), wasm, cpu$/,
    ],
    [
      { env: { MLSHIP_BACKEND: 'webgl' } },
      /^Unknown backend "webgl" \(from MLSHIP_BACKEND=webgl\)/,
    ],
  ])('rejects an unknown backend %j with INVALID_OPTION', async (options, message) => {
    const error: unknown = await initRuntime(options as never).catch((e: unknown) => e);
    expect(isTfError(error)).toBe(true);
    expect((error as TfError).code).toBe('INVALID_OPTION');
    expect((error as TfError).message).toMatch(message);
  });

  it.each([
    [
      { threads: 0 },
      /^Invalid thread count 0 \(from options\.threads\); expected an integer in \[1, 8\]$/,
    ],
    [{ threads: 1.5 }, /^Invalid thread count 1\.5 \(from options\.threads\)/],
    [{ threads: 9 }, /^Invalid thread count 9 \(from options\.threads\)/],
    [
      { env: { MLSHIP_WASM_THREADS: 'many' } },
      /^Invalid thread count null \(from MLSHIP_WASM_THREADS=many\); expected an integer/,
    ],
  ])('rejects a bad thread count %j with INVALID_OPTION', async (options, message) => {
    const error: unknown = await initRuntime(options).catch((e: unknown) => e);
    expect(isTfError(error)).toBe(true);
    expect((error as TfError).code).toBe('INVALID_OPTION');
    expect((error as TfError).message).toMatch(message);
  });

  it.each([
    [{ backend: 'tensorflow' as const }, /\(options\.backend\)/],
    [{ backend: 'tfjs-node' as const }, /\(options\.backend\)/],
    [{ env: { MLSHIP_BACKEND: 'tensorflow' } }, /\(MLSHIP_BACKEND=tensorflow\)/],
  ])(
    'fails with BACKEND_UNAVAILABLE naming the fix when tensorflow is asked for but missing (%j)',
    async (options, source) => {
      const before = tf.getBackend();
      const error: unknown = await initRuntime(options).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TfError);
      const e = error as TfError;
      expect(e.code).toBe('BACKEND_UNAVAILABLE');
      expect(e.message).toMatch(/^Backend 'tensorflow' was requested/);
      expect(e.message).toMatch(source);
      expect(e.message).toMatch(/@tensorflow\/tfjs-node not installed \(Cannot find module/);
      expect(e.message).toMatch(/npm install @tensorflow\/tfjs-node@4\.22\.0/);
      expect(e.toJSON()).toMatchObject({
        name: 'TfError',
        code: 'BACKEND_UNAVAILABLE',
        data: { backend: 'tensorflow' },
      });
      expect(e.cause).toBeInstanceOf(Error);
      // A failed switch leaves the previous backend in place, also for later calls without a choice.
      expect(tf.getBackend()).toBe(before);
      expect((await initRuntime({ env: {} })).backend).toBe(before);
      expect(getRuntimeInfo()?.backend).toBe(before);
    },
  );
});

describe('the CJS build', () => {
  let work: string;
  let bundle: string;

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'mlship-tf-cjs-'));
    // Built privately (same base options as `pnpm build`) so this test does not race a concurrent
    // build cleaning dist/; inside the package so @tensorflow/* resolve as they do from dist/.
    bundle = await buildPrivateCjs('mlship-tf-cjs');
    // A tfjs-node whose package resolves but whose native binding does not load: what a failed
    // install (no network for libtensorflow) leaves behind.
    const fake = path.join(work, 'node_modules', '@tensorflow', 'tfjs-node');
    await mkdir(fake, { recursive: true });
    await writeFile(
      path.join(fake, 'package.json'),
      JSON.stringify({ name: '@tensorflow/tfjs-node', version: '4.22.0', main: 'index.js' }),
    );
    await writeFile(
      path.join(fake, 'index.js'),
      "throw new Error('The specified module could not be found: lib/napi-v8/tfjs_binding.node');\n",
    );
  }, 60_000);

  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
    await rm(path.dirname(bundle), { recursive: true, force: true });
  });

  const script = (options: string): string =>
    `require(${JSON.stringify('BUNDLE')}).initRuntime(${options}).then(
       (i) => console.log(JSON.stringify(i)),
       (e) => console.log(JSON.stringify({ error: e.code, message: e.message })))`;

  it('requires dist-style CJS, falls through a broken tfjs-node install with the reason, and fails an explicit request', async () => {
    const env = { ...process.env, MLSHIP_BACKEND: '' };
    const auto = await run(process.execPath, ['-e', script('').replace('BUNDLE', bundle)], {
      cwd: work,
      env,
    });
    const info = JSON.parse(auto.stdout.trim().split('\n').pop() ?? '') as {
      backend: string;
      reason: string;
    };
    expect(info.backend).toBe('wasm');
    expect(info.reason).toMatch(
      /^auto: @tensorflow\/tfjs-node is installed \(.*tfjs-node.index\.js\) but failed to load \(The specified module could not be found: .*tfjs_binding\.node\); using wasm/,
    );
    const explicit = await run(process.execPath, ['-e', script('').replace('BUNDLE', bundle)], {
      cwd: work,
      env: { ...process.env, MLSHIP_BACKEND: 'tfjs-node' },
    });
    const failure = JSON.parse(explicit.stdout.trim().split('\n').pop() ?? '') as {
      error: string;
      message: string;
    };
    expect(failure.error).toBe('BACKEND_UNAVAILABLE');
    expect(failure.message).toMatch(
      /\(MLSHIP_BACKEND=tfjs-node\) but @tensorflow\/tfjs-node is installed .* but failed to load/,
    );
  });
});
