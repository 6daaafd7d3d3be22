// Helpers shared by this package's tests (not part of the package's API). Node built-ins, core and
// tsup only: no tfjs import, so a test that must set the wasm backend up itself (threads) can use them.
import { readFile, readdir } from 'node:fs/promises';
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
 * Builds a private CJS bundle of this package (same base options as `pnpm build`) and returns the
 * path of its `index.cjs`. Private so a test does not race a concurrent build cleaning dist/;
 * inside the package so @tensorflow/* resolve as they do from dist/. Remove `path.dirname(bundle)`
 * when done.
 */
export async function buildPrivateCjs(name: string): Promise<string> {
  const outDir = path.join(pkgDir, 'node_modules', '.cache', `${name}-${process.pid}`);
  await build({
    ...baseTsupOptions,
    entry: [path.join(pkgDir, 'src/index.ts')],
    format: ['cjs'],
    dts: false,
    sourcemap: false,
    outDir,
    config: false,
    silent: true,
  });
  return path.join(outDir, 'index.cjs');
}
