import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * This package's install directory (dist/.. or src/..). @mlship/serve is one of its dependencies,
 * so it is where `image` commands find the server package to containerize by default.
 */
export function cliPackageDir(): string {
  const meta = (import.meta as { url?: string } | undefined)?.url;
  const here =
    typeof meta === 'string' && meta !== '' ? path.dirname(fileURLToPath(meta)) : __dirname;
  return path.resolve(here, '..');
}
