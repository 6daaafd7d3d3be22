import * as nodeFs from 'node:fs/promises';
import { DataError } from './errors.js';
import type { DataFs } from './types.js';

/** @internal The default file system: node:fs/promises. */
export const nodeDataFs: DataFs = {
  readFile: (path) => nodeFs.readFile(path),
  readdir: (path) => nodeFs.readdir(path),
  stat: (path) => nodeFs.stat(path),
};

function errnoCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string'
    ? (e as { code: string }).code
    : undefined;
}

/** @internal Reads a file, turning fs errors into DataError naming the path. */
export async function readFileOrThrow(fs: DataFs, path: string, what: string): Promise<Uint8Array> {
  try {
    return await fs.readFile(path);
  } catch (e) {
    throw fsError(e, path, what);
  }
}

/** @internal Maps a file-system error to FILE_NOT_FOUND or READ_FAILED. */
export function fsError(e: unknown, path: string, what: string): DataError {
  const code = errnoCode(e);
  if (code === 'ENOENT') {
    return new DataError('FILE_NOT_FOUND', `${what} not found: ${path}`, {
      cause: e,
      data: { path },
    });
  }
  const msg = e instanceof Error ? e.message : String(e);
  return new DataError('READ_FAILED', `could not read ${what} ${path}: ${msg}`, {
    cause: e,
    data: { path },
  });
}
