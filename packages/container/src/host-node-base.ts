import { execFile } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { promisify } from 'node:util';
import { describeError } from '@mlship/core';
import { ContainerError, checkOptionKeys } from './errors';
import { buildImage } from './image';
import type { Image } from './image';
import { createLayer } from './layer';
import type { LayerEntry } from './layer';
import type { EpochOptions } from './epoch';
import type { Platform } from './types';

const run = promisify(execFile);

/** Options of {@link buildHostNodeBase}. */
export interface HostNodeBaseOptions extends EpochOptions {
  /** The Node.js binary to copy (default this process's, `process.execPath`). */
  node?: string;
  /** The non-root user of the image (default `{ name: 'mlship', uid: 1000, gid: 1000 }`). */
  user?: { name: string; uid: number; gid: number };
  /** The platform recorded in the config (default this machine's). */
  platform?: Platform | string;
  /** The `ldd` command (default `ldd`). */
  ldd?: string;
  /** gzip level of the layers (default 6; 1 builds the ~100 MB node layer about three times faster). */
  compressionLevel?: number;
}

/**
 * The shared libraries a dynamically linked binary loads, as `ldd` lists them (absolute paths,
 * the dynamic loader included; the kernel's vDSO excluded). @internal
 */
export async function sharedLibraries(binary: string, ldd = 'ldd'): Promise<string[]> {
  let stdout: string;
  try {
    ({ stdout } = await run(ldd, [binary], { encoding: 'utf8' }));
  } catch (e) {
    const out = `${(e as { stdout?: string }).stdout ?? ''}${(e as { stderr?: string }).stderr ?? ''}`;
    if (/not a dynamic executable|statically linked/.test(out)) return [];
    throw new ContainerError('COMMAND_FAILED', `${ldd} ${binary} failed: ${describeError(e)}`, {
      cause: e,
      data: { command: ldd, path: binary },
    });
  }
  const libs = new Set<string>();
  for (const line of stdout.split('\n')) {
    const arrow = /=>\s*(\/\S+)/.exec(line);
    if (arrow?.[1]) libs.add(arrow[1]);
    else {
      const plain = /^\s*(\/\S+)\s*\(/.exec(line);
      if (plain?.[1]) libs.add(plain[1]);
    }
    if (/=>\s*not found/.test(line)) {
      throw new ContainerError(
        'COMMAND_FAILED',
        `${binary} needs a library ldd cannot find: ${line.trim()}`,
        { data: { command: ldd, path: binary } },
      );
    }
  }
  return [...libs].sort();
}

/**
 * Builds a minimal base image from this machine, with no network: the Node.js binary at
 * `/usr/local/bin/node` (where the official images have it), every shared library `ldd` says it
 * loads (at the same paths, with `LD_LIBRARY_PATH` covering their directories), an `/etc/passwd`
 * and `/etc/group` with root and one non-root user, and `/tmp`. The config runs as that user with
 * `PATH` set. Use it where pulling `node:20-slim` is not possible (air-gapped CI, tests); the
 * result runs on Linux machines with the same CPU architecture.
 *
 * @param options - node binary, user, platform, epoch, ldd command
 * @returns the image (push it or use it as a `base`)
 * @throws ContainerError `COMMAND_FAILED` when `ldd` fails or a library is missing,
 *   `READ_FAILED` when a file cannot be read, `INVALID_OPTION` for bad options
 * @example
 * ```ts
 * const base = await buildHostNodeBase();
 * const image = await buildImage({ base, layers: [await layerFromFiles({ '/app/main.js': 'console.log(1)' })] });
 * ```
 */
export async function buildHostNodeBase(options: HostNodeBaseOptions = {}): Promise<Image> {
  checkOptionKeys(
    options,
    ['node', 'user', 'platform', 'ldd', 'compressionLevel', 'sourceDateEpoch', 'env'],
    'buildHostNodeBase options',
  );
  const user = options.user ?? { name: 'mlship', uid: 1000, gid: 1000 };
  if (
    typeof user.name !== 'string' ||
    !/^[a-z_][a-z0-9_-]{0,31}$/.test(user.name) ||
    !Number.isInteger(user.uid) ||
    user.uid < 1 ||
    !Number.isInteger(user.gid) ||
    user.gid < 1
  ) {
    throw new ContainerError(
      'INVALID_OPTION',
      `user: expected { name: a lowercase user name, uid: >= 1, gid: >= 1 } (a non-root user), got ${JSON.stringify(user)}`,
      {
        data: { path: 'user', actual: user },
      },
    );
  }
  let node: string;
  try {
    node = realpathSync(options.node ?? process.execPath);
  } catch (e) {
    throw new ContainerError(
      'READ_FAILED',
      `node binary ${options.node ?? process.execPath} cannot be read: ${describeError(e)}`,
      { cause: e, data: { path: options.node } },
    );
  }
  const libs = await sharedLibraries(node, options.ldd);
  const epoch = {
    ...(options.sourceDateEpoch === undefined ? {} : { sourceDateEpoch: options.sourceDateEpoch }),
    ...(options.env ? { env: options.env } : {}),
  };
  const runtime: LayerEntry[] = [{ path: '/usr/local/bin/node', source: node, mode: 0o755 }];
  for (const lib of libs) runtime.push({ path: lib, source: realpathSync(lib), mode: 0o755 });
  const system: LayerEntry[] = [
    {
      path: '/etc/passwd',
      data: `root:x:0:0:root:/root:/sbin/nologin\n${user.name}:x:${user.uid}:${user.gid}:${user.name}:/home/${user.name}:/sbin/nologin\n`,
    },
    { path: '/etc/group', data: `root:x:0:\n${user.name}:x:${user.gid}:\n` },
    { path: '/tmp', type: 'directory', mode: 0o1777 },
    { path: '/root', type: 'directory', mode: 0o700 },
    { path: `/home/${user.name}`, type: 'directory', mode: 0o755, uid: user.uid, gid: user.gid },
  ];
  const libDirs = [...new Set(libs.map((l) => l.slice(0, l.lastIndexOf('/'))))].sort();
  return buildImage({
    base: 'scratch',
    ...(options.platform === undefined ? {} : { platform: options.platform }),
    ...epoch,
    layers: [
      await createLayer(runtime, {
        ...epoch,
        createdBy: `mlship: node ${process.version} and its shared libraries (${libs.length})`,
      }),
      await createLayer(system, {
        ...epoch,
        createdBy: `mlship: /etc/passwd, /etc/group with user ${user.name} (${user.uid}:${user.gid}), /tmp`,
      }),
    ],
    config: {
      env: {
        PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        ...(libDirs.length > 0 ? { LD_LIBRARY_PATH: libDirs.join(':') } : {}),
      },
      user: `${user.uid}:${user.gid}`,
      workdir: '/',
      cmd: ['node'],
    },
  });
}
