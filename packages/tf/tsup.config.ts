import { defineConfig } from 'tsup';
import { baseTsupOptions } from '../../tsup.config.base';

// Two entries: the package, and the program its worker threads run (dist/worker.js and
// dist/worker.cjs, found next to dist/index.* at run time). Types only for the package.
export default defineConfig({
  ...baseTsupOptions,
  entry: { index: 'src/index.ts', worker: 'src/parallel/worker.ts' },
  dts: { entry: { index: 'src/index.ts' } },
});
