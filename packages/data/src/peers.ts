import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DataError } from './errors';

/**
 * A require function anchored at this module. In the ESM build `import.meta.url` is set; in the CJS
 * build tsup leaves `import.meta` empty, so fall back to `__filename`, then to the working directory.
 */
function localRequire(): NodeJS.Require {
  const metaUrl = (import.meta as { url?: string } | undefined)?.url;
  if (typeof metaUrl === 'string' && metaUrl !== '') return createRequire(metaUrl);
  if (typeof __filename === 'string' && __filename !== '') return createRequire(__filename);
  return createRequire(join(process.cwd(), 'noop.js'));
}

/**
 * @internal Finds the install directory of an optional peer package.
 * @throws DataError PEER_MISSING naming the package to install
 */
export function resolvePeerDir(pkg: string, purpose: string): string {
  const attempts: string[] = [];
  const requires: NodeJS.Require[] = [
    localRequire(),
    createRequire(join(process.cwd(), 'noop.js')),
  ];
  for (const req of requires) {
    try {
      return dirname(req.resolve(`${pkg}/package.json`));
    } catch (e) {
      attempts.push((e as Error).message.split('\n')[0] ?? String(e));
    }
  }
  throw new DataError(
    'PEER_MISSING',
    `${purpose} needs the optional peer package "${pkg}", which is not installed: run \`npm install ${pkg}\` (or pnpm add ${pkg})`,
    {
      data: { package: pkg, attempts },
    },
  );
}
