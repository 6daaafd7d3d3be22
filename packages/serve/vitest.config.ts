import { defineConfig } from 'vitest/config';
import { sharedVitestConfig } from '../../vitest.shared';

export default defineConfig({
  ...sharedVitestConfig,
  test: {
    ...sharedVitestConfig.test,
    // Servers, worker pools and a browser per file: one file at a time on 2 cores.
    fileParallelism: false,
  },
});
