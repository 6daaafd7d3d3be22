// loadImageFolder against paths that are not regular files: a FIFO named like an image (reading
// it would block the process forever) and a symlink to /dev/zero (reading it would grow memory
// without bound). Each load runs in a child process under a 3 GB data-segment limit (ulimit -d) and a time
// limit, so a regression fails this test instead of hanging or exhausting the machine.
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import pngjs from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const PKG = resolve(import.meta.dirname, '..');
const tsx = pathToFileURL(createRequire(join(PKG, 'package.json')).resolve('tsx')).href;
const entry = pathToFileURL(join(PKG, 'src/index.ts')).href;
const TIME_LIMIT_MS = 20_000;

/** Loads `root` in a child process with `onError`; prints the error's JSON or the skipped list. */
function loadInChild(
  root: string,
  onError: 'fail' | 'skip',
): Promise<{ status: number | null; signal: string | null; out: string }> {
  const script = `
    const { loadImageFolder } = await import(${JSON.stringify(entry)});
    try {
      const ds = await loadImageFolder(${JSON.stringify(root)}, { height: 8, width: 8, channels: 1, onError: ${JSON.stringify(onError)} });
      console.log(JSON.stringify({ loaded: ds.shape[0], skipped: ds.skipped }));
    } catch (e) {
      console.log(JSON.stringify({ error: { name: e.name, code: e.code, data: e.data, message: e.message } }));
    }`;
  const node = `ulimit -d 3000000; exec "$0" --import "$1" --input-type=module -e "$2"`;
  return new Promise((done) => {
    const child = spawn('bash', ['-c', node, process.execPath, tsx, script], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), TIME_LIMIT_MS);
    child.on('exit', (status, signal) => {
      clearTimeout(timer);
      done({ status, signal, out });
    });
  });
}

let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'mlship-data-hostile-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** A folder with one valid 8x8 PNG and one hostile entry named `b.png` made by `make`. */
async function folderWith(name: string, make: (path: string) => Promise<void>): Promise<string> {
  const root = join(tmp, name);
  await mkdir(join(root, 'cls'), { recursive: true });
  const png = pngjs.PNG.sync.write(new pngjs.PNG({ width: 8, height: 8 }), {
    colorType: 0,
  });
  await writeFile(join(root, 'cls', 'a.png'), png);
  await make(join(root, 'cls', 'b.png'));
  return root;
}

describe.skipIf(process.platform === 'win32')('loadImageFolder reads regular files only', () => {
  it.each([
    [
      'a FIFO named b.png',
      'fifo',
      'a FIFO',
      (p: string) => Promise.resolve(void execFileSync('mkfifo', [p])),
    ],
    [
      'a symlink b.png -> /dev/zero',
      'devzero',
      'a character device',
      (p: string) => symlink('/dev/zero', p),
    ],
  ] as const)(
    '%s fails with READ_FAILED naming it, and is skipped with onError: skip',
    async (_what, name, kind, make) => {
      const root = await folderWith(name, make);
      const bad = join(root, 'cls', 'b.png');

      const failed = await loadInChild(root, 'fail');
      expect(
        failed.signal,
        `child did not finish within ${TIME_LIMIT_MS} ms: ${failed.out}`,
      ).toBeNull();
      expect(failed.status, failed.out).toBe(0);
      const { error } = JSON.parse(failed.out.trim().split('\n').at(-1) ?? '{}') as {
        error?: { name: string; code: string; data: unknown; message: string };
      };
      expect(error).toMatchObject({
        name: 'DataError',
        code: 'READ_FAILED',
        data: { path: bad, reason: 'not-regular', actual: kind },
      });
      expect(error?.message).toContain(`${bad}: it is ${kind} (expected a regular file)`);

      const skipped = await loadInChild(root, 'skip');
      expect(
        skipped.signal,
        `child did not finish within ${TIME_LIMIT_MS} ms: ${skipped.out}`,
      ).toBeNull();
      expect(JSON.parse(skipped.out.trim().split('\n').at(-1) ?? '{}')).toEqual({
        loaded: 1,
        skipped: [
          { path: bad, reason: expect.stringContaining('expected a regular file') as string },
        ],
      });
    },
  );
});
