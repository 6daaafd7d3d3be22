import type { ViteUserConfig } from 'vitest/config';

/**
 * The vitest settings every package shares: tests beside the code (`src/`) and the slow end-to-end
 * suites (`test/`), generous timeouts for 2-core CI machines, and a JSON report per package that
 * `scripts/test-summary.mjs` adds up into the suite's closing line.
 */
export const sharedVitestConfig: ViteUserConfig = {
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default', ['json', { outputFile: '.vitest-report.json' }]],
  },
};
