import type { Options } from 'tsup';

/**
 * The one tsup setup every publishable mlship package builds with: dual ESM + CJS, types for both,
 * sourcemaps, Node 20 target. A package's `tsup.config.ts` spreads this and adds entries if needed.
 */
export const baseTsupOptions: Options = {
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  splitting: false,
  treeshake: true,
};
