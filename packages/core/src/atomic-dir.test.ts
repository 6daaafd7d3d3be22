import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeDirectoryAtomic } from './atomic-dir';
import { isCoreError } from './errors';

let root: string;
let target: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'mlship-dir-'));
  target = path.join(root, 'model');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const fillWith = (content: string) => async (tmp: string) => {
  await writeFile(path.join(tmp, 'a.txt'), content);
  return content;
};

/** A pid that certainly belongs to no running process: one that just exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

describe('writeDirectoryAtomic', () => {
  it('creates the directory with what fill wrote and returns its result', async () => {
    expect(await writeDirectoryAtomic(target, fillWith('one'))).toBe('one');
    expect(await readFile(path.join(target, 'a.txt'), 'utf8')).toBe('one');
    expect(await readdir(root)).toEqual(['model']);
  });

  it('refuses an existing target without overwrite, and replaces it with overwrite', async () => {
    await writeDirectoryAtomic(target, fillWith('one'));
    let caught: unknown;
    await writeDirectoryAtomic(target, fillWith('two')).catch((e: unknown) => (caught = e));
    expect(isCoreError(caught) && caught.code).toBe('WRITE_FAILED');
    expect(caught).toMatchObject({ data: { reason: 'exists' } });
    expect((caught as Error).message).toMatch(/already exists; pass \{ overwrite: true \}/);
    await writeDirectoryAtomic(target, fillWith('two'), { overwrite: true });
    expect(await readFile(path.join(target, 'a.txt'), 'utf8')).toBe('two');
    expect(await readdir(root)).toEqual(['model']);
  });

  it('leaves the old directory and no temporary when fill throws (the error passes through)', async () => {
    await writeDirectoryAtomic(target, fillWith('one'));
    const boom = new Error('boom');
    await expect(
      writeDirectoryAtomic(
        target,
        async (tmp) => {
          await writeFile(path.join(tmp, 'a.txt'), 'half');
          throw boom;
        },
        { overwrite: true },
      ),
    ).rejects.toBe(boom);
    expect(await readFile(path.join(target, 'a.txt'), 'utf8')).toBe('one');
    expect(await readdir(root)).toEqual(['model']);
  });

  it("cleans a dead writer's temporary and restores the old directory a crash moved aside", async () => {
    const pid = deadPid();
    // A crash between "rename old away" and "rename new in": no target, an .old sibling, a .tmp sibling.
    await mkdir(path.join(root, `.model.old-${pid}-abcdef`));
    await writeFile(path.join(root, `.model.old-${pid}-abcdef`, 'a.txt'), 'old');
    await mkdir(path.join(root, `.model.tmp-${pid}-123456`));
    await expect(writeDirectoryAtomic(target, fillWith('new'))).rejects.toMatchObject({
      code: 'WRITE_FAILED',
      data: { reason: 'exists' },
    });
    expect(await readFile(path.join(target, 'a.txt'), 'utf8')).toBe('old');
    expect(await readdir(root)).toEqual(['model']);
  });

  it("leaves a live process's temporary alone", async () => {
    const live = path.join(root, `.model.tmp-${process.ppid}-abcdef`);
    await mkdir(live);
    await writeDirectoryAtomic(target, fillWith('x'));
    expect((await readdir(root)).sort()).toEqual([
      '.model.tmp-' + process.ppid + '-abcdef',
      'model',
    ]);
  });
});
