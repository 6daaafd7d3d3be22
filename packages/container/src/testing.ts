import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ContainerError } from './errors';

/** Options of {@link startTestRegistry}. */
export interface TestRegistryOptions {
  /** The registry binary (default `docker-registry`, Debian's build of CNCF distribution; `registry` upstream). */
  command?: string;
  /** `auth` section of the registry config (e.g. `{ htpasswd: { realm, path } }` or `{ token: {...} }`). */
  auth?: Record<string, unknown>;
  /** Answer upload `Location`s as relative URLs (`http.relativeurls`). */
  relativeUrls?: boolean;
  /** Storage directory (default: a new temp dir, removed by `stop`). */
  storageDir?: string;
  /** Milliseconds to wait for the registry to answer (default 15000). */
  startTimeoutMs?: number;
}

/** A registry started by {@link startTestRegistry}. */
export interface TestRegistry {
  /** `127.0.0.1:<port>`: use it as the registry part of references. */
  host: string;
  /** The port. */
  port: number;
  /** Its process id. */
  pid: number;
  /** Where it stores blobs (`docker/registry/v2/...`). */
  storageDir: string;
  /** Stops the process (SIGTERM, then SIGKILL after 5 s) and removes the temp dirs it made. */
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (bound, then released). @internal */
export async function freePort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise<boolean>((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

/**
 * Starts a real OCI registry (CNCF distribution, `docker-registry serve`) on 127.0.0.1 with an
 * ephemeral port and filesystem storage in a temp dir, for tests and examples that push images
 * without any network. Never uses the packaged config (which listens on all interfaces).
 *
 * @param options - auth section, relative URLs, storage dir, binary
 * @returns the running registry; call `stop()` when done
 * @throws ContainerError `COMMAND_FAILED` when the binary is missing or the registry does not answer
 * @example
 * ```ts
 * import { startTestRegistry } from '@mlship/container/testing';
 * const registry = await startTestRegistry();
 * try {
 *   console.log(registry.host); // 127.0.0.1:PORT
 * } finally {
 *   await registry.stop();
 * }
 * ```
 */
export async function startTestRegistry(options: TestRegistryOptions = {}): Promise<TestRegistry> {
  const work = await mkdtemp(join(tmpdir(), 'mlship-test-registry-'));
  const storageDir = options.storageDir ?? join(work, 'storage');
  const port = await freePort();
  const config: Record<string, unknown> = {
    version: 0.1,
    log: { level: 'error', accesslog: { disabled: true } },
    storage: { filesystem: { rootdirectory: storageDir }, delete: { enabled: true } },
    http: {
      addr: `127.0.0.1:${port}`,
      secret: 'mlship-test-registry',
      relativeurls: options.relativeUrls ?? false,
    },
  };
  if (options.auth !== undefined) config.auth = options.auth;
  const configFile = join(work, 'config.yml');
  await writeFile(configFile, stringify(config));
  const command = options.command ?? 'docker-registry';
  const child = spawn(command, ['serve', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-4000);
  });
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      if (!(await waitExit(child, 5000))) {
        child.kill('SIGKILL');
        await waitExit(child, 5000);
      }
    }
    await rm(work, { recursive: true, force: true });
  };
  const deadline = Date.now() + (options.startTimeoutMs ?? 15_000);
  for (;;) {
    const failed = await Promise.race([
      spawnError,
      new Promise<undefined>((r) => setTimeout(() => r(undefined), 50)),
    ]);
    if (failed !== undefined || child.exitCode !== null) {
      await stop();
      throw new ContainerError(
        'COMMAND_FAILED',
        `${command} serve failed to start: ${failed?.message ?? stderr.trim()}${failed ? " (install Debian's docker-registry package)" : ''}`,
        {
          ...(failed ? { cause: failed } : {}),
          data: { command },
        },
      );
    }
    try {
      const res = await fetch(`http://127.0.0.1:${port}/v2/`);
      await res.body?.cancel();
      if (res.status === 200 || res.status === 401) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new ContainerError(
        'COMMAND_FAILED',
        `${command} serve did not answer on 127.0.0.1:${port} in time: ${stderr.trim()}`,
        { data: { command } },
      );
    }
  }
  return { host: `127.0.0.1:${port}`, port, pid: child.pid as number, storageDir, stop };
}
