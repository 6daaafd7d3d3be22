// These checks read every package's build: turbo builds a package before this package's tests only
// when it is a dependency here, so a new package under packages/ must be added to devDependencies.
import { describe, expect, it } from 'vitest';
import { ROOT, libraryPackages } from '../src/workspace';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Manifest } from '../src/workspace';

const own = JSON.parse(readFileSync(join(ROOT, 'checks', 'package.json'), 'utf8')) as Manifest;

describe('@mlship/checks', () => {
  it.each(libraryPackages().map((p) => [p.manifest.name] as const))(
    'depends on %s (so turbo builds it before these checks)',
    (name) => {
      expect(
        own.devDependencies?.[name],
        `add "${name}": "workspace:*" to checks/package.json devDependencies`,
      ).toBe('workspace:*');
    },
  );
});
