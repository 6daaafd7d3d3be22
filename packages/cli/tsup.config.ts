import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';
import { baseTsupOptions } from '../../tsup.config.base';

const { version } = JSON.parse(
  readFileSync(new URL('./package.json', import.meta.url), 'utf8'),
) as {
  version: string;
};

// The library (dual ESM + CJS with types) and the `mlship` bin (ESM, with its shebang kept).
export default defineConfig({
  ...baseTsupOptions,
  entry: ['src/index.ts', 'src/bin.ts'],
  dts: { entry: 'src/index.ts' },
  define: { __MLSHIP_CLI_VERSION__: JSON.stringify(version) },
});
