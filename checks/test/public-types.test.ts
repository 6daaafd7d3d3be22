// Every public type is reachable from its package's entry points: each named type that an exported
// declaration refers to (a parameter, an option, a return type, a base class, a field), declared in
// the package itself, is exported too, so a user can name it. Then a generated file imports every
// such type from the package root (and each subpath entry) as ESM and as CommonJS, and tsc must
// accept both (the `import` and `require` typings agree).
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publicTypesOf } from '../src/public-types';
import type { EntryTypes } from '../src/public-types';
import { ROOT, libraryPackages, publishablePackages, shortName } from '../src/workspace';

const packages = publishablePackages();
const results = new Map<string, EntryTypes[]>();
for (const pkg of packages) results.set(pkg.manifest.name, publicTypesOf(pkg));

let dir: string;
const diagnostics = new Map<string, string[]>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mlship-public-types-'));
  await writeFile(join(dir, 'package.json'), '{ "private": true, "type": "module" }\n');
  for (const pkg of libraryPackages()) {
    const at = join(dir, 'node_modules', pkg.manifest.name);
    await mkdir(dirname(at), { recursive: true });
    await symlink(pkg.dir, at, 'dir');
  }
  await mkdir(join(dir, 'node_modules', '@types'), { recursive: true });
  await symlink(
    join(ROOT, 'node_modules', '@types', 'node'),
    join(dir, 'node_modules', '@types', 'node'),
    'dir',
  );
  const files = new Map<string, string>();
  for (const [name, entries] of results) {
    const lines = entries.map((e) => {
      const names = [...new Set([...e.exported, ...e.referenced.keys()])].sort();
      return `import type { ${names.join(', ')} } from '${e.entry.specifier}';`;
    });
    for (const ext of ['mts', 'cts']) {
      const file = join(dir, `${name.replace('@mlship/', '')}.${ext}`);
      await writeFile(file, `${lines.join('\n')}\nexport {};\n`);
      files.set(file, `${name} (${ext === 'mts' ? 'ESM' : 'CommonJS'})`);
    }
  }
  const program = ts.createProgram([...files.keys()], {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    skipLibCheck: true,
    noEmit: true,
    types: ['node'],
  });
  for (const [file, label] of files) {
    const source = program.getSourceFile(file);
    const found = source
      ? [...program.getSemanticDiagnostics(source), ...program.getSyntacticDiagnostics(source)]
      : [];
    diagnostics.set(
      label,
      found.map((d) => ts.flattenDiagnosticMessageText(d.messageText, ' ')),
    );
  }
}, 120_000);
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('public types', () => {
  it('covers every publishable package, each built', () => {
    expect(packages.length).toBeGreaterThan(0);
    for (const pkg of packages) {
      expect(existsSync(join(pkg.dir, 'dist', 'index.d.ts')), `${pkg.rel} is not built`).toBe(true);
    }
  });

  for (const pkg of packages) {
    for (const result of results.get(pkg.manifest.name) ?? []) {
      it(`${result.entry.specifier}: every type its exports refer to is exported`, () => {
        const unexported = [...result.referenced].map(
          ([type, from]) => `${type} (used by ${from})`,
        );
        expect(unexported).toEqual([]);
      });
    }
    for (const kind of ['ESM', 'CommonJS']) {
      it(`${pkg.manifest.name}: every public type can be imported by name (${kind})`, () => {
        expect(diagnostics.get(`${pkg.manifest.name} (${kind})`)).toEqual([]);
      });
    }
    it(`${shortName(pkg)}: the analysis sees its exports`, () => {
      expect(results.get(pkg.manifest.name)?.[0]?.exported.length ?? 0).toBeGreaterThan(0);
    });
  }
});
