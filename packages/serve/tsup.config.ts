import { defineConfig } from 'tsup';
import { baseTsupOptions } from '../../tsup.config.base';

export default defineConfig([
  { ...baseTsupOptions },
  // The `mlship-serve` executable: ESM only, with its shebang.
  {
    ...baseTsupOptions,
    entry: { bin: 'src/bin.ts' },
    format: ['esm'],
    dts: false,
    clean: false,
    banner: { js: '#!/usr/bin/env node' },
  },
]);
