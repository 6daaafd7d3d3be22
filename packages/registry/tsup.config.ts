import { defineConfig } from 'tsup';
import { baseTsupOptions } from '../../tsup.config.base';

// Two entries: the library, and `@mlship/registry/testing` (helpers for other packages' tests).
export default defineConfig({ ...baseTsupOptions, entry: ['src/index.ts', 'src/testing.ts'] });
