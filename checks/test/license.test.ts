// The repository is MIT-licensed, and every published package carries the license text in its
// tarball (npm packs a package's LICENSE file whatever `files` says).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT, publishablePackages } from '../src/workspace';

const run = promisify(execFile);
const rootLicense = readFileSync(join(ROOT, 'LICENSE'), 'utf8');

describe('LICENSE', () => {
  it('the root LICENSE is the MIT license', () => {
    expect(rootLicense).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} /);
    expect(rootLicense).toContain('Permission is hereby granted, free of charge');
  });

  it.each(publishablePackages().map((p) => [p.manifest.name, p] as const))(
    '%s says MIT and packs the same LICENSE text',
    async (_name, pkg) => {
      expect(pkg.manifest.license).toBe('MIT');
      expect(readFileSync(join(pkg.dir, 'LICENSE'), 'utf8')).toBe(rootLicense);
      const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
        cwd: pkg.dir,
      });
      const [packed] = JSON.parse(stdout) as [{ files: { path: string }[] }];
      expect(packed.files.map((f) => f.path)).toContain('LICENSE');
    },
  );
});
