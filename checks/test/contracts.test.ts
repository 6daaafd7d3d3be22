// docs/contracts.md lists, for every package, the error codes its functions throw. This keeps each
// list equal to the package's `<PKG>_ERROR_CODES` array, read from the built package, so the page
// cannot drift from the code (a code added, renamed or dropped without the page fails here).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { contractSections, listedErrorCodes } from '../src/contracts';
import { ROOT, publishablePackages, shortName } from '../src/workspace';
import type { WorkspacePackage } from '../src/workspace';

const page = readFileSync(join(ROOT, 'docs', 'contracts.md'), 'utf8');
const sections = contractSections(page);
const packages = publishablePackages();
const arrayName = (pkg: WorkspacePackage): string =>
  `${shortName(pkg).toUpperCase().replace(/-/g, '_')}_ERROR_CODES`;

let shared: readonly string[] = [];
const modules = new Map<string, Record<string, unknown>>();

beforeAll(async () => {
  for (const pkg of packages) {
    modules.set(
      pkg.manifest.name,
      (await import(pathToFileURL(join(pkg.dir, 'dist', 'index.js')).href)) as Record<
        string,
        unknown
      >,
    );
  }
  shared = (modules.get('@mlship/core')?.SHARED_ERROR_CODES as readonly string[] | undefined) ?? [];
}, 120_000);

describe('docs/contracts.md error codes', () => {
  it('core exports the shared vocabulary', () => {
    expect(shared).toContain('INVALID_OPTION');
  });

  for (const pkg of packages) {
    const name = pkg.manifest.name;
    it(`${name}: the codes listed equal ${arrayName(pkg)}`, () => {
      const section = sections.get(name);
      expect(section, `docs/contracts.md has no ## or ### heading naming ${name}`).toBeDefined();
      const listed = listedErrorCodes(section ?? '');
      expect(listed, `the ${name} section has no "- Errors:" item`).toBeDefined();
      const array = modules.get(name)?.[arrayName(pkg)];
      expect(Array.isArray(array), `${name} does not export ${arrayName(pkg)}`).toBe(true);
      const code = new Set(array as string[]);
      const doc = new Set([...(listed?.codes ?? []), ...(listed?.includesShared ? shared : [])]);
      expect({
        'listed in docs/contracts.md but not in the code': [...doc]
          .filter((c) => !code.has(c))
          .sort(),
        'in the code but not listed in docs/contracts.md': [...code]
          .filter((c) => !doc.has(c))
          .sort(),
      }).toEqual({
        'listed in docs/contracts.md but not in the code': [],
        'in the code but not listed in docs/contracts.md': [],
      });
    });
  }
});
