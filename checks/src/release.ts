import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, cp, mkdir, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join, relative } from 'node:path';
import { ROOT, libraryPackages } from './workspace';
import type { Manifest } from './workspace';

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

/** A running Verdaccio on 127.0.0.1 with its storage in `dir`. */
export interface LocalRegistry {
  url: string;
  /** An auth token of a user created for publishing. */
  token: string;
  stop(): Promise<void>;
}

/**
 * Starts Verdaccio (the checks package's devDependency) on 127.0.0.1 with a fresh storage and no
 * uplinks: it serves only what is published to it. `@mlship/*` needs a logged-in user to publish.
 *
 * @param dir - an empty directory for config, storage and users
 * @returns the registry, once it answers
 */
export async function startVerdaccio(dir: string): Promise<LocalRegistry> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  await mkdir(join(dir, 'storage'), { recursive: true });
  await writeFile(
    join(dir, 'config.yaml'),
    [
      `storage: ${join(dir, 'storage')}`,
      'auth:',
      '  htpasswd:',
      `    file: ${join(dir, 'htpasswd')}`,
      '    max_users: 10',
      'uplinks: {}',
      'packages:',
      "  '@mlship/*':",
      '    access: $all',
      '    publish: $authenticated',
      "  '**':",
      '    access: $all',
      'log: { type: stdout, format: pretty, level: warn }',
      '',
    ].join('\n'),
  );
  const bin = join(ROOT, 'checks', 'node_modules', 'verdaccio', 'bin', 'verdaccio');
  const child = spawn(
    process.execPath,
    [bin, '--config', join(dir, 'config.yaml'), '--listen', `127.0.0.1:${port}`],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  child.stdout.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const stop = (): Promise<void> =>
    new Promise((done) => {
      if (child.exitCode !== null || child.signalCode !== null) return done();
      child.once('close', () => done());
      child.kill('SIGTERM');
    });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`verdaccio exited (${child.exitCode}):\n${log}`);
    try {
      if ((await fetch(`${url}-/ping`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`verdaccio did not answer on ${url} within 60 s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const user = await fetch(`${url}-/user/org.couchdb.user:rehearsal`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'rehearsal', password: 'rehearsal-password' }),
  });
  const { token } = (await user.json()) as { token?: string };
  if (!user.ok || token === undefined) {
    await stop();
    throw new Error(`could not create a verdaccio user (${user.status}):\n${log}`);
  }
  return { url, token, stop };
}

/**
 * Copies the repository as git sees it (tracked and untracked-but-not-ignored files) plus every
 * package's built `dist/` into `dir`, with the root node_modules linked (for the changesets CLI)
 * and each package's workspace dependencies linked to their copies, so `pnpm publish` rewrites
 * `workspace:` ranges to the versions `changeset version` wrote in the copy.
 *
 * @param dir - an empty directory
 */
export async function scratchCopy(dir: string): Promise<void> {
  const listed = spawnSync(
    'git',
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
    { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 },
  );
  if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`);
  for (const file of listed.stdout.split('\0')) {
    if (file === '' || !existsSync(join(ROOT, file))) continue;
    await mkdir(dirname(join(dir, file)), { recursive: true });
    await cp(join(ROOT, file), join(dir, file), { verbatimSymlinks: true });
  }
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  for (const pkg of libraryPackages()) {
    const copy = join(dir, relative(ROOT, pkg.dir));
    if (existsSync(join(pkg.dir, 'dist'))) {
      await cp(join(pkg.dir, 'dist'), join(copy, 'dist'), { recursive: true });
    }
    const manifest = JSON.parse(readFileSync(join(copy, 'package.json'), 'utf8')) as Manifest;
    for (const deps of [
      manifest.dependencies,
      manifest.devDependencies,
      manifest.peerDependencies,
    ]) {
      for (const [name, range] of Object.entries(deps ?? {})) {
        if (!range.startsWith('workspace:')) continue;
        const target = libraryPackages().find((p) => p.manifest.name === name);
        if (!target) continue;
        const at = join(copy, 'node_modules', name);
        await mkdir(dirname(at), { recursive: true });
        if (!existsSync(at)) await symlink(join(dir, relative(ROOT, target.dir)), at, 'dir');
      }
    }
  }
}

/**
 * A PATH on which `pnpm` runs the repository's pnpm (`packageManager`): the one on PATH when it
 * answers, else a shim running it through npx. changesets spawns `pnpm publish` by name.
 *
 * @param dir - where a shim may be written
 * @returns the PATH to use
 */
export async function pathWithPnpm(dir: string): Promise<string> {
  const path = process.env.PATH ?? '';
  if (spawnSync('pnpm', ['--version'], { stdio: 'ignore' }).status === 0) return path;
  const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    packageManager?: string;
  };
  const pnpm = root.packageManager ?? 'pnpm@10';
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'pnpm'), `#!/bin/sh\nexec npx --yes ${pnpm} "$@"\n`);
  await chmod(join(dir, 'pnpm'), 0o755);
  return `${dir}:${path}`;
}
