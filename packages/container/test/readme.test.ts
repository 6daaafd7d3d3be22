// Every TypeScript code block of README.md runs as written: each block is saved as its own ES module
// and run with tsx in a fresh temp directory, with REGISTRY pointing at a real registry started on
// 127.0.0.1 for the test, in a directory holding a saved model (./models/cnn) and node_modules with
// @mlship/serve installed. Only the package's own name is pointed at its source.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeModelDirForTesting } from '@mlship/registry/testing';
import { startTestRegistry } from '../src/testing';
import type { TestRegistry } from '../src/testing';

const PKG_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const readme = await readFile(join(PKG_ROOT, 'README.md'), 'utf8');
// Every ts block, also those marked `no-run` for the repository-wide check (checks/), which has no
// registry, model or server to give them: this test does.
const blocks = [...readme.matchAll(/^```ts(?: no-run:[^\n]*)?\n([\s\S]*?)^```$/gm)].map(
  (m) => m[1]!,
);
const requireFromPkg = createRequire(join(PKG_ROOT, 'package.json'));

function resolveImports(code: string): string {
  return code.replace(/from '([^']+)'/g, (all, spec: string) => {
    if (spec === '@mlship/container') return `from '${resolve(PKG_ROOT, 'src/index.ts')}'`;
    if (spec === '@mlship/container/testing')
      return `from '${resolve(PKG_ROOT, 'src/testing.ts')}'`;
    if (spec.startsWith('node:') || spec.startsWith('.')) return all;
    return `from '${pathToFileURL(requireFromPkg.resolve(spec)).href}'`;
  });
}

function run(
  file: string,
  cwd: string,
  env: Record<string, string>,
): Promise<{ code: number | null; out: string }> {
  return new Promise((done) => {
    const tsx = pathToFileURL(requireFromPkg.resolve('tsx')).href;
    const child = spawn(process.execPath, ['--import', tsx, file], {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => done({ code, out }));
  });
}

let root: string;
let registry: TestRegistry;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mlship-container-readme-'));
  registry = await startTestRegistry();
});
afterAll(async () => {
  await registry?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

describe('README code blocks', () => {
  it('has TypeScript examples', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    expect(blocks.some((b) => b.includes('containerize('))).toBe(true);
  });

  it.each(blocks.map((code, i) => [i + 1, code] as const))(
    'block %i runs as written',
    async (i, code) => {
      const cwd = join(root, `block-${i}`);
      const file = join(root, `block-${i}.mts`);
      await mkdir(cwd, { recursive: true });
      // What a user's project has: a saved model and an installed @mlship/serve.
      await writeModelDirForTesting(join(cwd, 'models/cnn'), { seed: 1 });
      await symlink(join(PKG_ROOT, 'node_modules'), join(cwd, 'node_modules'));
      await writeFile(file, resolveImports(code));
      const { code: exit, out } = await run(file, cwd, {
        REGISTRY: registry.host,
        SOURCE_DATE_EPOCH: '',
      });
      expect(out).not.toMatch(/Error/);
      expect(exit).toBe(0);
    },
    240_000,
  );
});
