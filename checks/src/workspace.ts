import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The repository root (this file is checks/src/workspace.ts). */
export const ROOT = resolve(import.meta.dirname, '..', '..');

/** The parts of a package.json the checks read. */
export interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  license?: string;
  files?: string[];
  bin?: string | Record<string, string>;
  exports?: Record<string, unknown>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/** One workspace package: where it lives and its manifest. */
export interface WorkspacePackage {
  /** Absolute directory. */
  dir: string;
  /** Directory relative to the root, posix (`packages/data`). */
  rel: string;
  manifest: Manifest;
}

function packagesUnder(folder: string): WorkspacePackage[] {
  const abs = join(ROOT, folder);
  if (!existsSync(abs)) return [];
  return readdirSync(abs, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(abs, d.name, 'package.json')))
    .map((d) => ({
      dir: join(abs, d.name),
      rel: `${folder}/${d.name}`,
      manifest: JSON.parse(readFileSync(join(abs, d.name, 'package.json'), 'utf8')) as Manifest,
    }))
    .sort((a, b) => a.rel.localeCompare(b.rel));
}

/** Every package under `packages/` (the publishable libraries), in name order. */
export function libraryPackages(): WorkspacePackage[] {
  return packagesUnder('packages');
}

/** The libraries that are published (not `private`). */
export function publishablePackages(): WorkspacePackage[] {
  return libraryPackages().filter((p) => p.manifest.private !== true);
}

/** The example projects under `examples/`. */
export function examplePackages(): WorkspacePackage[] {
  return packagesUnder('examples');
}

/** The short name of a package directory (`packages/data` -> `data`). */
export function shortName(pkg: WorkspacePackage): string {
  return pkg.rel.split('/').at(-1) ?? pkg.rel;
}
