// Every ts/js/sh code block of the root README, each package README and each example README runs
// as written, on its own, in a fresh project outside the workspace that uses the built packages
// (see src/readme-project.ts); a block marked `no-run: <reason>` is type-checked (TypeScript) or
// syntax-checked (shell) instead. Every TypeScript block is type-checked as a strict user would.
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractCodeBlocks } from '../src/readme-blocks';
import type { CodeBlock } from '../src/readme-blocks';
import {
  checkShellSyntax,
  createReadmeProject,
  runBlock,
  typeCheckBlocks,
} from '../src/readme-project';
import type { ReadmeProject } from '../src/readme-project';
import { ROOT, examplePackages, libraryPackages } from '../src/workspace';

/** A README block may run this long (a block that trains for minutes is marked no-run instead). */
const BLOCK_TIME_LIMIT_MS = 120_000;

const readmes = [
  'README.md',
  ...[...libraryPackages(), ...examplePackages()].map((p) => `${p.rel}/README.md`),
];
const blocks: CodeBlock[] = readmes.flatMap((file) =>
  extractCodeBlocks(readFileSync(join(ROOT, file), 'utf8'), file),
);
const label = (b: CodeBlock): string => `${b.file}:${b.line} (${b.lang})`;

let project: ReadmeProject & { missing: Map<CodeBlock, string[]> };
let typeErrors: Map<CodeBlock, string[]>;

beforeAll(async () => {
  project = await createReadmeProject(blocks);
  typeErrors = typeCheckBlocks(project, blocks);
}, 300_000);
afterAll(async () => {
  if (project) await rm(project.dir, { recursive: true, force: true });
});

describe('README code blocks', () => {
  it('the root and data READMEs have blocks', () => {
    expect(blocks.filter((b) => b.file === 'README.md').length).toBeGreaterThan(0);
    expect(blocks.filter((b) => b.file === 'packages/data/README.md').length).toBeGreaterThan(0);
  });

  for (const block of blocks) {
    const name = label(block);
    if (block.lang !== 'sh') {
      it(`${name} imports only packages its package provides`, () => {
        expect(project.missing.get(block) ?? []).toEqual([]);
      });
      it(`${name} type-checks`, () => {
        expect(typeErrors.get(block) ?? []).toEqual([]);
      });
    }
    if (block.run) {
      it(
        `${name} runs as written`,
        async () => {
          const result = await runBlock(project, block, BLOCK_TIME_LIMIT_MS);
          expect(
            result.timedOut,
            `still running after ${BLOCK_TIME_LIMIT_MS} ms:\n${result.output}`,
          ).toBe(false);
          expect(result.status, result.output).toBe(0);
        },
        BLOCK_TIME_LIMIT_MS + 10_000,
      );
    } else if (block.lang === 'sh') {
      it(`${name} is not run (${block.reason ?? ''}) and is valid shell`, async () => {
        const result = await checkShellSyntax(project, block);
        expect(result.status, result.output).toBe(0);
      });
    }
  }
});
