// Helpers shared by this package's tests (not part of the package's API). Node built-ins, core and
// tsup only: no tfjs import, so a test that must set the wasm backend up itself (threads) can use them.
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRng } from '@mlship/core';
import { build } from 'tsup';
import { baseTsupOptions } from '../../../tsup.config.base';

/** This package's directory. */
export const pkgDir = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

/** Deterministic values in [lo, hi) from an integer seed (core's `createRng`). */
export function seeded(size: number, seed: number, lo = -1, hi = 1): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: size }, () => rng.uniform(lo, hi));
}

/** The files of `dir` (not recursive), name -> bytes, in name order. */
export async function filesOf(dir: string): Promise<Record<string, Buffer>> {
  const out: Record<string, Buffer> = {};
  for (const name of (await readdir(dir)).sort()) out[name] = await readFile(path.join(dir, name));
  return out;
}

/**
 * Builds a private copy of this package's dist (both entries, index and worker, with the same base
 * options as `pnpm build`) in the given formats and returns its directory. Private so a test does
 * not race a concurrent build cleaning dist/; inside the package so @tensorflow/* and @mlship/core
 * resolve as they do from dist/. Remove the directory when done.
 */
export async function buildPrivate(
  name: string,
  formats: ('esm' | 'cjs')[] = ['cjs'],
): Promise<string> {
  const outDir = path.join(pkgDir, 'node_modules', '.cache', `${name}-${process.pid}`);
  await build({
    ...baseTsupOptions,
    entry: {
      index: path.join(pkgDir, 'src/index.ts'),
      worker: path.join(pkgDir, 'src/parallel/worker.ts'),
    },
    format: formats,
    dts: false,
    sourcemap: false,
    outDir,
    config: false,
    silent: true,
  });
  // node_modules/.cache is outside this package's scope: say that .js is ESM, as dist/ does.
  await writeFile(path.join(outDir, 'package.json'), '{ "type": "module" }\n');
  return outDir;
}

/** {@link buildPrivate} in CJS only; returns the path of its `index.cjs`. */
export async function buildPrivateCjs(name: string): Promise<string> {
  return path.join(await buildPrivate(name, ['cjs']), 'index.cjs');
}
