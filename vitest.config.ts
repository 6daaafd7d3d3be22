import { defineConfig } from 'vitest/config';

// For the IDE and merged coverage; CI runs each package's own `vitest run` through turbo.
export default defineConfig({
  test: {
    projects: ['packages/*', 'checks'],
  },
});
