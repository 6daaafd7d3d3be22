import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { resolve as resolvePath } from 'node:path';
import type { FsAdapter } from '@mlship/core';
import { RegistryError } from '../errors';
import type { LockOptions } from '../types';

/** What a lock (or break) file says about its holder. */
interface Holder {
  pid: number;
  hostname: string;
  /** ISO time the file was created. */
  time: string;
  /** Random per acquisition: only the holder removes its own lock. */
  token?: string;
  /** The holder's start time in clock ticks since boot (Linux `/proc/<pid>/stat` field 22). */
  start?: string;
  /** The kernel's boot id (`/proc/sys/kernel/random/boot_id`): pids restart at each boot. */
  boot?: string;
}

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** @internal When process `pid` started (clock ticks since boot), where /proc tells; else undefined. */
export function processStart(pid: number): string | undefined {
  const stat = readProc(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // `pid (comm) state ppid ...`: comm may hold spaces and parentheses, so split after the last ')'
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19];
}

const BOOT_ID = readProc('/proc/sys/kernel/random/boot_id')?.trim();
const HOST = osHostname();
const OWN_START = processStart(process.pid);

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM';
  }
}

/**
 * Whether the holder named in a lock or break file is gone. On this host: it is this very process
 * (which never holds the file when it asks: its own calls queue in-process), its pid is dead, the
 * machine rebooted since (boot id), or the pid now belongs to a process that started at another
 * time (a reused pid — e.g. a container's app restarted as PID 1). Whatever the host, a file not
 * refreshed for `staleMs` is stale: a live holder touches it every `staleMs / 4`.
 */
function holderGone(h: Holder, ageMs: number, staleMs: number): boolean {
  if (h.token !== undefined && heldTokens.has(h.token)) return false;
  if (ageMs > staleMs) return true;
  if (h.hostname !== HOST) return false;
  if (h.boot !== undefined && BOOT_ID !== undefined && h.boot !== BOOT_ID) return true;
  if (h.pid === process.pid) return true;
  if (!pidAlive(h.pid)) return true;
  const start = h.start === undefined ? undefined : processStart(h.pid);
  return start !== undefined && start !== h.start;
}

function describeHolder(h: Holder | undefined): string {
  return h ? `pid ${h.pid} on ${h.hostname} since ${h.time}` : 'another process';
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** In-process queue per lock path, so calls from one process wait in order instead of polling. */
const localQueues = new Map<string, Promise<void>>();
/** Tokens of the locks this process holds right now. */
const heldTokens = new Set<string>();

/**
 * @internal The registry's write lock: an O_EXCL-created file naming its holder (pid, host, start
 * time, boot id), refreshed while held. A lock whose holder is gone is broken under a second
 * O_EXCL "break" file, so two processes never both break and both take it; a break file whose
 * own holder is gone is removed the same way. `timeoutMs` bounds every wait, break path included.
 */
export class FileLock {
  private readonly timeoutMs: number;
  private readonly staleMs: number;

  constructor(
    private readonly fsa: FsAdapter,
    readonly path: string,
    options: LockOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.staleMs = options.staleMs ?? 120_000;
  }

  /** Runs `fn` while holding the lock. */
  async with<T>(fn: () => Promise<T>): Promise<T> {
    // one queue per file, however the path was spelt
    const key = resolvePath(this.path);
    const previous = localQueues.get(key) ?? Promise.resolve();
    let done!: () => void;
    const mine = new Promise<void>((r) => (done = r));
    const chained = previous.then(() => mine);
    localQueues.set(key, chained);
    await previous;
    try {
      const release = await this.acquire();
      try {
        return await fn();
      } finally {
        await release();
      }
    } finally {
      done();
      if (localQueues.get(key) === chained) localQueues.delete(key);
    }
  }

  private holderBody(token?: string): string {
    const h: Holder = {
      pid: process.pid,
      hostname: HOST,
      time: new Date().toISOString(),
      ...(token === undefined ? {} : { token }),
      ...(OWN_START === undefined ? {} : { start: OWN_START }),
      ...(BOOT_ID === undefined ? {} : { boot: BOOT_ID }),
    };
    return JSON.stringify(h);
  }

  /** A lock or break file: its raw text, its holder (undefined when torn) and its age. */
  private async read(
    path: string,
  ): Promise<{ raw: string; holder: Holder | undefined; ageMs: number } | undefined> {
    const raw = await this.fsa.readText(path);
    if (raw === undefined) return undefined;
    const st = await this.fsa.lstat(path);
    let holder: Holder | undefined;
    try {
      const h = JSON.parse(raw) as Holder;
      holder = typeof h.pid === 'number' && typeof h.hostname === 'string' ? h : undefined;
    } catch {
      holder = undefined;
    }
    const written = Math.max(st?.mtimeMs ?? 0, holder ? Date.parse(holder.time) || 0 : 0);
    return { raw, holder, ageMs: Date.now() - written };
  }

  private stale(f: { holder: Holder | undefined; ageMs: number }): boolean {
    // A torn file (a writer killed between create and write) may be one being written right
    // now: it is stale once it is 2 s old.
    if (!f.holder) return f.ageMs > 2_000;
    return holderGone(f.holder, f.ageMs, this.staleMs);
  }

  /** Keeps the lock file's mtime fresh while it is held, so others can tell a live holder. */
  private heartbeat(): () => void {
    const utimes = (
      this.fsa.fs.promises as { utimes?: (p: string, a: Date, m: Date) => Promise<void> }
    ).utimes;
    if (!utimes) return () => undefined;
    const timer = setInterval(
      () => {
        const now = new Date();
        utimes.call(this.fsa.fs.promises, this.path, now, now).catch(() => undefined);
      },
      Math.max(250, this.staleMs / 4),
    );
    timer.unref();
    return () => clearInterval(timer);
  }

  async acquire(): Promise<() => Promise<void>> {
    const token = randomBytes(8).toString('hex');
    const body = this.holderBody(token);
    const deadline = Date.now() + this.timeoutMs;
    let delay = 2;
    for (;;) {
      let created: boolean;
      try {
        created = await this.fsa.writeExclusive(this.path, body);
      } catch (e) {
        throw new RegistryError(
          'WRITE_FAILED',
          `Cannot create the registry lock ${this.path} (${(e as Error).message}); is the repository read-only?`,
          { cause: e, data: { path: this.path } },
        );
      }
      if (created) {
        heldTokens.add(token);
        const stop = this.heartbeat();
        return async () => {
          stop();
          heldTokens.delete(token);
          const now = await this.read(this.path);
          if (now?.holder?.token === token) await this.fsa.unlink(this.path);
        };
      }
      const held = await this.read(this.path);
      const breaking = held !== undefined && this.stale(held);
      if (breaking && (await this.breakLock(held.raw))) continue;
      if (Date.now() > deadline) {
        const breaker = await this.read(`${this.path}.break`);
        throw new RegistryError(
          'LOCK_TIMEOUT',
          breaking
            ? `Registry lock ${this.path} is stale (${describeHolder(held.holder)}) but ${this.path}.break is held by ${describeHolder(breaker?.holder)}; gave up after ${this.timeoutMs} ms`
            : `Registry lock ${this.path} is held by ${describeHolder(held?.holder)}; gave up after ${this.timeoutMs} ms`,
          { data: { path: this.path, holder: held?.holder } },
        );
      }
      await sleep(delay + Math.random() * delay);
      delay = Math.min(delay * 2, 50);
    }
  }

  /**
   * Removes the lock judged stale, under the break file. Returns false when another process is
   * breaking it right now (the caller waits, bounded by its deadline).
   */
  private async breakLock(staleRaw: string): Promise<boolean> {
    const breakPath = `${this.path}.break`;
    if (!(await this.fsa.writeExclusive(breakPath, this.holderBody()))) {
      const other = await this.read(breakPath);
      // its breaker died while breaking (or a torn break file): clear it and try again
      if (other && this.stale({ holder: other.holder, ageMs: Math.max(other.ageMs, 0) })) {
        if ((await this.fsa.readText(breakPath)) === other.raw) await this.fsa.unlink(breakPath);
        return true;
      }
      return false;
    }
    try {
      // Only remove the exact lock we judged stale; a fresh one taken meanwhile stays.
      if ((await this.fsa.readText(this.path)) === staleRaw) await this.fsa.unlink(this.path);
    } finally {
      await this.fsa.unlink(breakPath);
    }
    return true;
  }
}
