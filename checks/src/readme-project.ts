import { existsSync, realpathSync } from 'node:fs';
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { run } from './process';
import type { Run } from './process';
import { importedPackages } from './readme-blocks';
import type { CodeBlock } from './readme-blocks';
import { ROOT, libraryPackages } from './workspace';

/**
 * A throw-away npm-style project outside the workspace in which README blocks run as a user would
 * run them: `node_modules/@mlship/*` are the built workspace packages (symlinks to packages/*, so
 * their own dependencies resolve as installed), and every other package a block imports is linked
 * from the node_modules of the package whose README it is (or the root), so a README cannot use a
 * package its install line does not mention without this failing.
 */
export interface ReadmeProject {
  dir: string;
  /** The file a block is written to (`.mts`, `.mjs` or `.sh`) in its own working directory. */
  fileOf(block: CodeBlock): string;
}

/** Where a README's package keeps its dependencies (the root for the root README). */
function packageDirOf(readme: string): string {
  return join(ROOT, dirname(readme));
}

function findInstalled(name: string, fromDirs: string[]): string | undefined {
  for (const dir of fromDirs) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
  }
  return undefined;
}

async function link(target: string, at: string): Promise<void> {
  await mkdir(dirname(at), { recursive: true });
  if (!existsSync(at)) await symlink(target, at, 'dir');
}

/** A README's directory in the project (`packages/data/README.md` -> `packages-data`). */
function slugOf(readme: string): string {
  return (
    readme
      .replace(/README\.md$/i, '')
      .replace(/[^A-Za-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'root'
  );
}

/**
 * Creates the project and writes every block into it. Each README gets its own directory with its
 * own `package.json` and `node_modules`, so a block can use only what its own package provides.
 *
 * @param blocks - the blocks of every README
 * @returns the project, with `missing` listing imports that no node_modules provides
 */
export async function createReadmeProject(
  blocks: readonly CodeBlock[],
): Promise<ReadmeProject & { missing: Map<CodeBlock, string[]> }> {
  const dir = await mkdtemp(join(tmpdir(), 'mlship-readme-'));
  const libraries = libraryPackages();
  const workspaceNames = new Set(libraries.map((p) => p.manifest.name));
  const types = findInstalled('@types/node', [ROOT]);
  const prepared = new Set<string>();
  const prepare = async (readme: string): Promise<string> => {
    const home = join(dir, slugOf(readme));
    const modules = join(home, 'node_modules');
    if (prepared.has(home)) return modules;
    prepared.add(home);
    await mkdir(home, { recursive: true });
    await writeFile(
      join(home, 'package.json'),
      `${JSON.stringify({ name: `readme-${slugOf(readme)}`, private: true, type: 'module' }, null, 2)}\n`,
    );
    for (const pkg of libraries) {
      await link(pkg.dir, join(modules, pkg.manifest.name));
      const bins =
        typeof pkg.manifest.bin === 'string'
          ? { [pkg.manifest.name.split('/').at(-1) ?? '']: pkg.manifest.bin }
          : (pkg.manifest.bin ?? {});
      for (const [bin, target] of Object.entries(bins)) {
        await mkdir(join(modules, '.bin'), { recursive: true });
        const at = join(modules, '.bin', bin);
        if (!existsSync(at)) await symlink(join(pkg.dir, target), at);
      }
    }
    if (types) await link(types, join(modules, '@types', 'node'));
    return modules;
  };
  const missing = new Map<CodeBlock, string[]>();
  const fileOf = (block: CodeBlock): string => {
    const ext = block.lang === 'ts' ? 'mts' : block.lang === 'js' ? 'mjs' : 'sh';
    return join(dir, slugOf(block.file), `L${block.line}`, `block.${ext}`);
  };
  for (const block of blocks) {
    const modules = await prepare(block.file);
    const file = fileOf(block);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, block.code);
    if (block.lang === 'sh') continue;
    const notFound: string[] = [];
    for (const name of importedPackages(block.code)) {
      if (workspaceNames.has(name)) continue;
      const found = findInstalled(name, [packageDirOf(block.file), ROOT]);
      if (found) await link(found, join(modules, name));
      else notFound.push(name);
    }
    if (notFound.length > 0) missing.set(block, notFound);
  }
  return { dir, fileOf, missing };
}

/** What running a block printed and how it ended. */
export type BlockRun = Run;

const tsxLoader = pathToFileURL(
  join(
    dirname(realpathSync(join(ROOT, 'checks', 'node_modules', 'tsx', 'package.json'))),
    'dist',
    'loader.mjs',
  ),
).href;

/**
 * Runs one block as written in its own working directory: TypeScript with Node and tsx, JavaScript
 * with Node, shell with `bash -e`. The process is killed after `timeoutMs`.
 *
 * @param project - the project
 * @param block - the block
 * @param timeoutMs - the time limit
 * @returns its exit status and output
 */
export function runBlock(
  project: ReadmeProject,
  block: CodeBlock,
  timeoutMs: number,
): Promise<BlockRun> {
  const file = project.fileOf(block);
  const [command, args] =
    block.lang === 'sh'
      ? ['bash', ['-e', file]]
      : [process.execPath, block.lang === 'ts' ? ['--import', tsxLoader, file] : [file]];
  return run(command, args, {
    cwd: dirname(file),
    env: {
      ...process.env,
      PATH: `${join(dirname(dirname(file)), 'node_modules', '.bin')}:${process.env.PATH ?? ''}`,
    },
    timeoutMs,
    keep: 20_000,
    // The block's own exit ends the run, even if a process it started still holds the output.
    until: 'exit',
  });
}

/** Syntax-checks a shell block without running it (`bash -n`). */
export function checkShellSyntax(project: ReadmeProject, block: CodeBlock): Promise<BlockRun> {
  return run('bash', ['-n', project.fileOf(block)]);
}

/**
 * Type-checks every TypeScript and JavaScript block in one program, as a strict TypeScript user
 * would compile them (ESM, NodeNext resolution, `strict`, `skipLibCheck` as the READMEs advise).
 *
 * @param project - the project
 * @param blocks - the blocks (sh blocks are ignored)
 * @returns the diagnostics of each block, formatted with the README's own line numbers
 */
export function typeCheckBlocks(
  project: ReadmeProject,
  blocks: readonly CodeBlock[],
): Map<CodeBlock, string[]> {
  const byFile = new Map<string, CodeBlock>();
  for (const b of blocks) if (b.lang !== 'sh') byFile.set(project.fileOf(b), b);
  const program = ts.createProgram([...byFile.keys()], {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    skipLibCheck: true,
    noEmit: true,
    allowJs: true,
    checkJs: true,
    types: ['node'],
    lib: ['lib.es2022.d.ts'],
  });
  const out = new Map<CodeBlock, string[]>();
  for (const [file, block] of byFile) {
    const source = program.getSourceFile(file);
    const diagnostics = source
      ? [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]
      : [];
    out.set(
      block,
      diagnostics.map((d) => {
        const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
        if (d.file === undefined || d.start === undefined) return text;
        const { line } = d.file.getLineAndCharacterOfPosition(d.start);
        return `${block.file}:${block.line + 1 + line}: TS${d.code} ${text}`;
      }),
    );
  }
  return out;
}
