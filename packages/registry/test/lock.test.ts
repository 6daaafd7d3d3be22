// The write lock against real processes: a dead holder's lock is broken, a live one's is waited on.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as nodeFs from 'node:fs';
import { unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRegistry } from '../src/index';
import { errorOf, gitCli, tempDir, writeModelDirs, type ModelDirs } from './helpers';

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

/** A live process that is not this one (and not a registry writer): `node -e` sleeping. */
function liveProcess(): ChildProcess {
  return spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
}

/** `/proc/<pid>/stat` field 22: when the process started, in clock ticks since boot. */
function startOf(pid: number): string {
  const stat = nodeFs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}

const bootId = (): string => nodeFs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

describe('stale locks whose pid is alive again', () => {
  let other: ChildProcess;
  beforeAll(() => {
    other = liveProcess();
  });
  afterAll(() => {
    other.kill('SIGKILL');
  });

  const lockOf = (pid: number, extra: Record<string, unknown> = {}): string =>
    JSON.stringify({
      pid,
      hostname: hostname(),
      time: new Date().toISOString(),
      token: 'left-behind',
      ...extra,
    });

  it('breaks a lock whose pid now belongs to a process that started later (a reused pid)', async () => {
    const repo = join(root, 'reused-pid');
    const reg = await openRegistry({ dir: repo, bare: true, lock: { timeoutMs: 500 } });
    await writeFile(join(repo, 'mlship.lock'), lockOf(other.pid!, { start: '1', boot: bootId() }));
    expect((await reg.register('cnn', dirs.base)).version).toBe(1);
    expect(nodeFs.existsSync(join(repo, 'mlship.lock'))).toBe(false);
  });

  it('still waits for that same process when the lock names its real start time', async () => {
    const repo = join(root, 'live-holder');
    const reg = await openRegistry({ dir: repo, bare: true, lock: { timeoutMs: 300 } });
    await writeFile(
      join(repo, 'mlship.lock'),
      lockOf(other.pid!, { start: startOf(other.pid!), boot: bootId() }),
    );
    expect(await errorOf(reg.register('cnn', dirs.base))).toMatchObject({
      code: 'LOCK_TIMEOUT',
      message: expect.stringMatching(new RegExp(`held by pid ${other.pid}`)),
    });
  });

  it('breaks a lock naming this very process that it does not hold (the app restarted as PID 1)', async () => {
    const repo = join(root, 'own-pid');
    const reg = await openRegistry({ dir: repo, bare: true, lock: { timeoutMs: 500 } });
    await writeFile(join(repo, 'mlship.lock'), lockOf(process.pid, { boot: bootId() }));
    expect((await reg.register('cnn', dirs.base)).version).toBe(1);
  });

  it('breaks an old-format lock (no start time) of a live pid once it is older than staleMs', async () => {
    const repo = join(root, 'old-format');
    const reg = await openRegistry({
      dir: repo,
      bare: true,
      lock: { timeoutMs: 2_000, staleMs: 1_000 },
    });
    await writeFile(
      join(repo, 'mlship.lock'),
      JSON.stringify({
        pid: other.pid,
        hostname: hostname(),
        time: new Date(Date.now() - 5_000).toISOString(),
        token: 'x',
      }),
    );
    const old = new Date(Date.now() - 5_000);
    await nodeFs.promises.utimes(join(repo, 'mlship.lock'), old, old);
    expect((await reg.register('cnn', dirs.base)).version).toBe(1);
  });

  it('openRegistry completes a pending repair past such a lock', async () => {
    const repo = join(root, 'repair-past-stale');
    const writer = await openRegistry({ dir: repo, bare: true });
    await writer.register('cnn', dirs.base);
    await unlink(join(repo, 'refs', 'tags', 'cnn@v1.0.0'));
    await writeFile(join(repo, 'mlship.lock'), lockOf(other.pid!, { start: '1', boot: bootId() }));
    const reg = await openRegistry({ dir: repo, lock: { timeoutMs: 500 } });
    expect((await gitCli(repo, 'tag', '-l')).trim()).toBe('cnn@v1.0.0');
    expect((await reg.resolve('cnn@latest')).version).toBe(1);
  });
});

describe('timeoutMs on the break path', () => {
  let other: ChildProcess;
  beforeAll(() => {
    other = liveProcess();
  });
  afterAll(() => {
    other.kill('SIGKILL');
  });

  const deadLock = (): string =>
    JSON.stringify({
      pid: 2 ** 22 + 7,
      hostname: hostname(),
      time: new Date().toISOString(),
      token: 'd',
    });

  it('gives up with LOCK_TIMEOUT when a live process holds the break file', async () => {
    const repo = join(root, 'break-live');
    const reg = await openRegistry({ dir: repo, bare: true, lock: { timeoutMs: 300 } });
    await writeFile(join(repo, 'mlship.lock'), deadLock());
    await writeFile(
      join(repo, 'mlship.lock.break'),
      JSON.stringify({
        pid: other.pid,
        hostname: hostname(),
        time: new Date().toISOString(),
        start: startOf(other.pid!),
        boot: bootId(),
      }),
    );
    const started = Date.now();
    expect(await errorOf(reg.register('cnn', dirs.base))).toMatchObject({
      code: 'LOCK_TIMEOUT',
      message: expect.stringMatching(/is stale .* but .*mlship\.lock\.break is held by pid \d+/),
    });
    // gave up near timeoutMs, not after the break file aged 10 s
    expect(Date.now() - started).toBeLessThan(8_000);
  });

  it('clears a break file whose writer died while breaking, and takes the lock', async () => {
    const repo = join(root, 'break-dead');
    const reg = await openRegistry({ dir: repo, bare: true, lock: { timeoutMs: 300 } });
    await writeFile(join(repo, 'mlship.lock'), deadLock());
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    });
    await writeFile(
      join(repo, 'mlship.lock.break'),
      JSON.stringify({
        pid: Number(dead.stdout),
        hostname: hostname(),
        time: new Date().toISOString(),
      }),
    );
    const started = Date.now();
    expect((await reg.register('cnn', dirs.base)).version).toBe(1);
    // not after waiting for the break file to age (the 10 s a killed breaker used to cost)
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(nodeFs.existsSync(join(repo, 'mlship.lock.break'))).toBe(false);
  });
});
