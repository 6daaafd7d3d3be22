import { closeSync, constants, fstatSync, openSync, readFile, readSync } from 'node:fs';
import type { Stats } from 'node:fs';
import * as nodeFs from 'node:fs/promises';
import { promisify } from 'node:util';
import { errnoCode, describeError } from '@mlship/core';
import { DataError } from './errors';
import type { DataFs } from './types';

const readFileCallback = promisify(readFile);

/**
 * @internal The default file system: node:fs. Reads use the callback `fs.readFile` (promisified),
 * which reads small files in one threadpool round trip and is several times faster than
 * `fs/promises.readFile` on folders of thousands of small images.
 */
export const nodeDataFs: DataFs = {
  readFile: (path) => readFileCallback(path),
  readdir: (path) => nodeFs.readdir(path),
  stat: (path) => nodeFs.stat(path),
};

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
  const msg = describeError(e);
  return new DataError('READ_FAILED', `could not read ${what} ${path}: ${msg}`, {
    cause: e,
    data: { path },
  });
}

/** What a stat says a non-regular path is, for messages. */
function kindOf(
  st: Pick<Stats, 'isDirectory' | 'isFIFO' | 'isCharacterDevice' | 'isBlockDevice' | 'isSocket'>,
): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function notRegular(path: string, what: string, kind: string): DataError {
  return new DataError(
    'READ_FAILED',
    `could not read ${what} ${path}: it is ${kind} (expected a regular file)`,
    { data: { path, reason: 'not-regular', expected: 'regular file', actual: kind } },
  );
}

function tooLarge(path: string, what: string, size: number, maxBytes: number): DataError {
  return new DataError(
    'READ_FAILED',
    `could not read ${what} ${path}: ${size} bytes exceeds the limit of ${maxBytes} bytes`,
    { data: { path, reason: 'too-large', expected: `<= ${maxBytes} bytes`, actual: size } },
  );
}

/**
 * @internal Reads a regular file of at most `maxBytes` synchronously through node:fs. The file is
 * opened non-blocking, so a FIFO without a writer cannot hang the process, and checked with fstat
 * on the open descriptor before a byte is read: a FIFO, device (a symlink to /dev/zero) or socket
 * is refused, and so is a file larger than `maxBytes`. Never reads past the size fstat reported.
 *
 * @throws DataError `FILE_NOT_FOUND` / `READ_FAILED` naming the path
 */
export function readRegularFileSync(path: string, what: string, maxBytes: number): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw fsError(e, path, what);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw notRegular(path, what, kindOf(st));
    if (st.size > maxBytes) throw tooLarge(path, what, st.size, maxBytes);
    const bytes = Buffer.allocUnsafe(st.size);
    let at = 0;
    while (at < bytes.length) {
      const n = readSync(fd, bytes, at, bytes.length - at, null);
      if (n === 0) break; // shrank while reading: keep what is there (decoding reports it)
      at += n;
    }
    return at === bytes.length ? bytes : bytes.subarray(0, at);
  } catch (e) {
    throw e instanceof DataError ? e : fsError(e, path, what);
  } finally {
    closeSync(fd);
  }
}

/**
 * @internal Reads a regular file of at most `maxBytes` through an injected fs: `stat` first (it
 * must say `isFile()`, and its `size`, when given, must be within the cap), then the size of what
 * was read is checked again.
 *
 * @throws DataError `FILE_NOT_FOUND` / `READ_FAILED` naming the path
 */
export async function readRegularFile(
  fs: DataFs,
  path: string,
  what: string,
  maxBytes: number,
): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    const st = await fs.stat(path);
    if (!st.isFile())
      throw notRegular(path, what, st.isDirectory() ? 'a directory' : 'not a regular file');
    if (typeof st.size === 'number' && st.size > maxBytes)
      throw tooLarge(path, what, st.size, maxBytes);
    bytes = await fs.readFile(path);
  } catch (e) {
    throw e instanceof DataError ? e : fsError(e, path, what);
  }
  if (bytes.length > maxBytes) throw tooLarge(path, what, bytes.length, maxBytes);
  return bytes;
}
