// Every TypeScript block of src/parallel/README.md runs as written (the package README's blocks are
// run by checks/test/readme.test.ts, which covers each package's top-level README): each block is
// saved as its own ES module and run with tsx in a fresh working directory. Only the package's own
// name is pointed at its source; every other import resolves as it would for a user of the package
// (the block files sit in this package's node_modules/.cache, where its dependencies resolve).
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pkgDir } from './helpers';

const READMES = ['src/parallel/README.md'];
const blocks: [string, number, string][] = [];
for (const readme of READMES) {
  const text = await readFile(path.join(pkgDir, readme), 'utf8');
  [...text.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].forEach((m, i) => {
    blocks.push([readme, i + 1, m[1] ?? '']);
  });
}

const tsx = pathToFileURL(createRequire(path.join(pkgDir, 'package.json')).resolve('tsx')).href;
const source = path.join(pkgDir, 'src', 'index.ts');

function runBlock(file: string, cwd: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', tsx, file], {
      cwd,
      env: { ...process.env, MLSHIP_BACKEND: '', MLSHIP_WASM_THREADS: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => done({ code, stderr }));
  });
}

let files: string;
let work: string;
beforeAll(async () => {
  files = path.join(pkgDir, 'node_modules', '.cache', `mlship-tf-readme-${process.pid}`);
  await mkdir(files, { recursive: true });
  work = await mkdtemp(path.join(tmpdir(), 'mlship-tf-readme-'));
});
afterAll(async () => {
  await rm(files, { recursive: true, force: true });
  await rm(work, { recursive: true, force: true });
});

describe('README code blocks', () => {
  it('has TypeScript examples', () => {
    for (const readme of READMES)
      expect(blocks.filter(([r]) => r === readme).length).toBeGreaterThan(0);
  });

  it.each(blocks)('%s block %i runs as written', async (readme, i, code) => {
    const name = `${readme.replace(/\W+/g, '-')}-${i}`;
    const file = path.join(files, `${name}.mts`);
    const cwd = path.join(work, name);
    await mkdir(cwd, { recursive: true });
    await writeFile(file, code.replaceAll("from '@mlship/tf'", `from ${JSON.stringify(source)}`));
    const { code: exit, stderr } = await runBlock(file, cwd);
    expect(stderr).toBe('');
    expect(exit).toBe(0);
  });
});
