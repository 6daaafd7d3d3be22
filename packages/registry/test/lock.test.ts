// The write lock against real processes: a dead holder's lock is broken, a live one's is waited on.
import { spawnSync } from 'node:child_process';
import * as nodeFs from 'node:fs';
import { unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRegistry } from '../src/index';
import { errorOf, tempDir, writeModelDirs, type ModelDirs } from './helpers';

let root: string;
let cleanup: () => Promise<void>;
let dirs: ModelDirs;
beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir());
  dirs = await writeModelDirs(root);
});
afterAll(async () => cleanup());

describe('lock', () => {
  it('breaks a stale lock left by a dead process, and times out on a live one', async () => {
    const repo = join(root, 'locks');
    const reg = await openRegistry({ dir: repo, bare: true, lock: { timeoutMs: 300 } });
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    });
    await writeFile(
      join(repo, 'mlship.lock'),
      JSON.stringify({
        pid: Number(dead.stdout),
        hostname: hostname(),
        time: new Date().toISOString(),
        token: 'x',
      }),
    );
    expect((await reg.register('cnn', dirs.base)).version).toBe(1);
    expect(nodeFs.existsSync(join(repo, 'mlship.lock'))).toBe(false);
    await writeFile(
      join(repo, 'mlship.lock'),
      JSON.stringify({
        pid: process.ppid,
        hostname: hostname(),
        time: new Date().toISOString(),
        token: 'y',
      }),
    );
    expect(await errorOf(reg.register('cnn', dirs.base))).toMatchObject({
      code: 'LOCK_TIMEOUT',
      message: expect.stringMatching(new RegExp(`held by pid ${process.ppid}`)),
    });
    await unlink(join(repo, 'mlship.lock'));
  });
});
