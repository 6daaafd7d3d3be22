// Every TypeScript code block of README.md runs as written: each block is saved as its own ES
// module and run with tsx in a fresh temp directory. Only the package's own name is pointed at its
// source (the built dist is not a dependency of this task); other imports resolve as for a user.
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PKG_ROOT, tempDir } from './helpers';

const readme = await readFile(join(PKG_ROOT, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
const requireFromPkg = createRequire(join(PKG_ROOT, 'package.json'));

/** The block with `@mlship/registry[/testing]` pointed at src and other bare imports resolved. */
function resolveImports(code: string): string {
  return code.replace(/from '([^']+)'/g, (all, spec: string) => {
    if (spec === '@mlship/registry') return `from '${resolve(PKG_ROOT, 'src/index.ts')}'`;
    if (spec === '@mlship/registry/testing') return `from '${resolve(PKG_ROOT, 'src/testing.ts')}'`;
    if (spec.startsWith('node:') || spec.startsWith('.')) return all;
    return `from '${pathToFileURL(requireFromPkg.resolve(spec)).href}'`;
  });
}

function run(file: string, cwd: string): Promise<{ code: number | null; out: string }> {
  return new Promise((done) => {
    // tsx resolved from this package, since the block runs in an empty temp directory
    const tsx = pathToFileURL(requireFromPkg.resolve('tsx')).href;
    const child = spawn(process.execPath, ['--import', tsx, file], {
      cwd,
      env: { ...process.env, MLSHIP_REGISTRY_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => done({ code, out }));
  });
}

let root: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir('mlship-readme-'));
});
afterAll(async () => cleanup());

describe('README code blocks', () => {
  it('has TypeScript examples', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(3);
  });

  it.each(blocks.map((code, i) => [i + 1, code] as const))(
    'block %i runs as written',
    async (i, code) => {
      const cwd = join(root, `block-${i}`);
      const file = join(root, `block-${i}.mts`);
      await mkdir(cwd, { recursive: true });
      await writeFile(file, resolveImports(code));
      const { code: exit, out } = await run(file, cwd);
      expect(out).not.toMatch(/Error/);
      expect(exit).toBe(0);
    },
  );
});
