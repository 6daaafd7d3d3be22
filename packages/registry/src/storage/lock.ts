import { hostname as osHostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { RegistryError } from '../errors';
import type { FsAdapter } from '@mlship/core';
import type { LockOptions } from '../types';

interface LockContent {
  pid: number;
  hostname: string;
  time: string;
  token: string;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM';
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** In-process queue per lock path, so calls from one process wait in order instead of polling. */
const localQueues = new Map<string, Promise<void>>();

/**
 * @internal The registry's write lock: an O_EXCL-created file holding pid + hostname + time.
 * A lock left by a dead process on this host (or an old one from another host) is broken under a
 * second O_EXCL "break" file, so two processes never both break and both take it.
 */
export class FileLock {
  private readonly timeoutMs: number;
  private readonly staleMs: number;
  private readonly host = osHostname();

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
    const previous = localQueues.get(this.path) ?? Promise.resolve();
    let done!: () => void;
    const mine = new Promise<void>((r) => (done = r));
    const chained = previous.then(() => mine);
    localQueues.set(this.path, chained);
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
      if (localQueues.get(this.path) === chained) localQueues.delete(this.path);
    }
  }

  private isStale(c: LockContent | undefined): boolean {
    if (!c) return true; // unreadable / torn lock content: written by a process killed mid-write
    if (c.hostname === this.host) return !pidAlive(c.pid);
    const t = Date.parse(c.time);
    return !Number.isFinite(t) || Date.now() - t > this.staleMs;
  }

  private async readLock(): Promise<{ raw: string; content: LockContent | undefined } | undefined> {
    const raw = await this.fsa.readText(this.path);
    if (raw === undefined) return undefined;
    try {
      const c = JSON.parse(raw) as LockContent;
      return { raw, content: typeof c.pid === 'number' ? c : undefined };
    } catch {
      return { raw, content: undefined };
    }
  }

  async acquire(): Promise<() => Promise<void>> {
    const token = randomBytes(8).toString('hex');
    const content: LockContent = {
      pid: process.pid,
      hostname: this.host,
      time: new Date().toISOString(),
      token,
    };
    const body = JSON.stringify(content);
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
        return async () => {
          const now = await this.readLock();
          if (now?.content?.token === token) await this.fsa.unlink(this.path);
        };
      }
      const held = await this.readLock();
      if (held && this.isStale(held.content)) {
        // A torn lock file may simply be one being written right now: give it a moment.
        const age = Date.now() - ((await this.fsa.lstat(this.path))?.mtimeMs ?? 0);
        if (held.content || age > 2_000) await this.breakLock(held.raw);
        else await sleep(20);
        continue;
      }
      if (Date.now() > deadline) {
        throw new RegistryError(
          'LOCK_TIMEOUT',
          `Registry lock ${this.path} is held by ${held?.content ? `pid ${held.content.pid} on ${held.content.hostname} since ${held.content.time}` : 'another process'}; gave up after ${this.timeoutMs} ms`,
          { data: { path: this.path, holder: held?.content } },
        );
      }
      await sleep(delay + Math.random() * delay);
      delay = Math.min(delay * 2, 50);
    }
  }

  private async breakLock(staleRaw: string): Promise<void> {
    const breaker = `${this.path}.break`;
    if (!(await this.fsa.writeExclusive(breaker, String(process.pid)))) {
      const mtime = (await this.fsa.lstat(breaker))?.mtimeMs;
      if (mtime !== undefined && Date.now() - mtime > 10_000) await this.fsa.unlink(breaker);
      await sleep(5);
      return;
    }
    try {
      // Only remove the exact lock we judged stale; a fresh one taken meanwhile stays.
      if ((await this.fsa.readText(this.path)) === staleRaw) await this.fsa.unlink(this.path);
    } finally {
      await this.fsa.unlink(breaker);
    }
  }
}
