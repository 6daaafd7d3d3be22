import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { describeError } from '@mlship/core';
import { parse as parseYaml } from 'yaml';
import { ContainerError } from './errors';
import { directoryEntries } from './layer';
import type { LayerEntry } from './layer';

/** One installed package of a production dependency closure. */
export interface InstalledPackage {
  /** Package name, e.g. `fastify`, `@mlship/serve`. */
  name: string;
  /** Its version (from its package.json). */
  version: string;
  /** Its directory on this machine (real path). */
  dir: string;
  /** True for a workspace package (its directory is not inside a `node_modules`). */
  workspace: boolean;
  /** Its license (package.json `license`), when declared. */
  license?: string;
  /** Real paths of the packages it depends on, by name. */
  dependencies: Record<string, string>;
  /** The lockfile's integrity (`sha512-...`), when the lockfile lists it. */
  integrity?: string;
}

interface PackageJson {
  name?: string;
  version?: string;
  license?: unknown;
  files?: unknown;
  bin?: unknown;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

function readPackageJson(dir: string): PackageJson {
  const file = join(dir, 'package.json');
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as PackageJson;
  } catch (e) {
    throw new ContainerError(
      'DEPENDENCY_NOT_FOUND',
      `${file} cannot be read: ${describeError(e)}`,
      { cause: e, data: { path: file } },
    );
  }
}

/**
 * Finds an installed package the way Node.js resolves it: `node_modules/<name>` in `fromDir` and
 * every ancestor (pnpm's symlinked layout, npm's hoisted one and yarn's node_modules linker alike).
 * @internal
 */
export function findPackageDir(name: string, fromDir: string): string | undefined {
  let dir = fromDir;
  for (;;) {
    if (!dir.endsWith(`${sep}node_modules`)) {
      const candidate = join(dir, 'node_modules', name);
      if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * The production dependency closure of an installed package, as this machine's `node_modules`
 * resolves it: `dependencies`, plus `optionalDependencies` and `peerDependencies` that are installed.
 * A missing required dependency is an error.
 * @internal
 */
export function productionClosure(rootDir: string): {
  root: InstalledPackage;
  packages: Map<string, InstalledPackage>;
} {
  const packages = new Map<string, InstalledPackage>();
  const visit = (dir: string): InstalledPackage => {
    const known = packages.get(dir);
    if (known !== undefined) return known;
    const pj = readPackageJson(dir);
    if (typeof pj.name !== 'string' || typeof pj.version !== 'string') {
      throw new ContainerError(
        'DEPENDENCY_NOT_FOUND',
        `${join(dir, 'package.json')}: no "name" and "version"`,
        { data: { path: dir } },
      );
    }
    const pkg: InstalledPackage = {
      name: pj.name,
      version: pj.version,
      dir,
      workspace: !dir.split(sep).includes('node_modules'),
      dependencies: {},
    };
    if (typeof pj.license === 'string') pkg.license = pj.license;
    packages.set(dir, pkg);
    const required = Object.keys(pj.dependencies ?? {});
    const optional = [
      ...Object.keys(pj.optionalDependencies ?? {}),
      ...Object.keys(pj.peerDependencies ?? {}),
    ];
    for (const name of [...new Set([...required, ...optional])].sort()) {
      const depDir = findPackageDir(name, dir);
      if (depDir === undefined) {
        if (required.includes(name) && !(name in (pj.optionalDependencies ?? {}))) {
          throw new ContainerError(
            'DEPENDENCY_NOT_FOUND',
            `${pkg.name}@${pkg.version} depends on ${name}, which is not installed (looked in node_modules from ${dir} up); run your package manager's install first`,
            {
              data: { path: dir, package: name },
            },
          );
        }
        continue;
      }
      pkg.dependencies[name] = depDir;
      visit(depDir);
    }
    return pkg;
  };
  const root = visit(realpathSync(rootDir));
  return { root, packages };
}

/**
 * Lays a closure out as one `node_modules` tree the way npm hoists: every package at the top level
 * unless another version of the same name is already there, in which case it nests under the
 * package that needs it. Each package resolves, by Node's rules, exactly the dependency it
 * resolved on this machine.
 *
 * @returns slot path (`node_modules/a/node_modules/b`) -> package real path
 * @internal
 */
export function hoistedLayout(
  root: InstalledPackage,
  packages: Map<string, InstalledPackage>,
): Map<string, string> {
  const slots = new Map<string, string>();
  const rootSlot = `node_modules/${root.name}`;
  slots.set(rootSlot, root.dir);
  const queue: [string, string][] = [[root.dir, rootSlot]];
  while (queue.length > 0) {
    const [dir, slot] = queue.shift() as [string, string];
    const pkg = packages.get(dir) as InstalledPackage;
    for (const [name, depDir] of Object.entries(pkg.dependencies)) {
      // Node looks in <slot>/node_modules, then each enclosing node_modules up to the top.
      const chain: string[] = [];
      let at = slot;
      for (;;) {
        chain.push(`${at}/node_modules/${name}`);
        const i = at.lastIndexOf('/node_modules/');
        if (i === -1) break;
        at = at.slice(0, i);
      }
      chain.push(`node_modules/${name}`);
      const found = chain.find((s) => slots.has(s));
      if (found !== undefined && slots.get(found) === depDir) continue;
      const place = found === undefined ? `node_modules/${name}` : `${slot}/node_modules/${name}`;
      slots.set(place, depDir);
      queue.push([depDir, place]);
    }
  }
  return new Map([...slots.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

const ALWAYS_EXCLUDED = new Set([
  'node_modules',
  '.git',
  '.turbo',
  '.vitest-report.json',
  '.DS_Store',
  'npm-debug.log',
]);

/** What `npm pack` would publish of a workspace package: `files` (plain paths) plus package.json, README, LICENSE. */
function workspaceFilter(
  dir: string,
): (rel: string, type: 'file' | 'directory' | 'symlink') => boolean {
  const pj = readPackageJson(dir);
  const files =
    Array.isArray(pj.files) && pj.files.every((f) => typeof f === 'string' && !/[*?[\]{}!]/.test(f))
      ? (pj.files as string[]).map((f) => f.replace(/^\.\//, '').replace(/\/+$/, ''))
      : undefined;
  return (rel, type) => {
    const top = rel.split('/')[0] ?? rel;
    if (ALWAYS_EXCLUDED.has(top) || rel.endsWith('.tsbuildinfo')) return false;
    if (files === undefined) return true;
    if (!rel.includes('/') && /^(package\.json|readme|license|licence|changelog)/i.test(rel))
      return true;
    return files.some(
      (f) =>
        rel === f || rel.startsWith(`${f}/`) || (type === 'directory' && f.startsWith(`${rel}/`)),
    );
  };
}

/** Files Node.js never loads to run a package: source maps, type declarations, build info. */
const PRUNED = /\.(map|d\.ts|d\.cts|d\.mts|tsbuildinfo)$/;

/** Layer entries copying one package to `/app/<slot>` (without maps and declarations when `prune`). @internal */
export async function packageEntries(
  pkg: InstalledPackage,
  slot: string,
  appDir: string,
  prune = false,
): Promise<LayerEntry[]> {
  const base = pkg.workspace
    ? workspaceFilter(pkg.dir)
    : (rel: string) => (rel.split('/')[0] ?? rel) !== 'node_modules';
  const filter = (rel: string, type: 'file' | 'directory' | 'symlink'): boolean =>
    base(rel, type) && !(prune && type === 'file' && PRUNED.test(rel));
  return directoryEntries(pkg.dir, `${appDir}/${slot}`, { filter });
}

/** The bin path of a package (`bin` string, or the named entry of a `bin` object). @internal */
export function binOf(dir: string, binName: string | undefined): string | undefined {
  const pj = readPackageJson(dir);
  if (typeof pj.bin === 'string') return pj.bin.replace(/^\.\//, '');
  if (typeof pj.bin === 'object' && pj.bin !== null) {
    const bins = pj.bin as Record<string, string>;
    const pick = binName !== undefined ? bins[binName] : Object.values(bins)[0];
    return pick?.replace(/^\.\//, '');
  }
  return undefined;
}

/** A lockfile found above a directory: integrity by `name@version`. */
export interface Lockfile {
  /** The file. */
  path: string;
  /** `pnpm` or `npm`. */
  kind: 'pnpm' | 'npm';
  /** `name@version` -> `sha512-...`. */
  integrity: Map<string, string>;
}

/**
 * Reads the nearest lockfile at or above `dir` (`pnpm-lock.yaml` v5-v9, `package-lock.json` /
 * `npm-shrinkwrap.json` v1-v3) into a `name@version` -> integrity map.
 * @internal
 */
export function readLockfile(dir: string): Lockfile | undefined {
  let at = dir;
  for (;;) {
    for (const [file, kind] of [
      ['pnpm-lock.yaml', 'pnpm'],
      ['npm-shrinkwrap.json', 'npm'],
      ['package-lock.json', 'npm'],
    ] as const) {
      const path = join(at, file);
      if (existsSync(path) && statSync(path).isFile()) return parseLockfile(path, kind);
    }
    const parent = dirname(at);
    if (parent === at) return undefined;
    at = parent;
  }
}

function parseLockfile(path: string, kind: 'pnpm' | 'npm'): Lockfile {
  const integrity = new Map<string, string>();
  let doc: Record<string, unknown>;
  try {
    const text = readFileSync(path, 'utf8');
    doc = (kind === 'pnpm' ? parseYaml(text) : JSON.parse(text)) as Record<string, unknown>;
  } catch (e) {
    throw new ContainerError(
      'READ_FAILED',
      `${path}: cannot parse the lockfile: ${describeError(e)}`,
      { cause: e, data: { path } },
    );
  }
  if (kind === 'pnpm') {
    for (const [key, value] of Object.entries(
      (doc.packages ?? {}) as Record<
        string,
        { resolution?: { integrity?: string }; name?: string; version?: string }
      >,
    )) {
      const sri = value?.resolution?.integrity;
      if (typeof sri !== 'string') continue;
      // v9: "name@1.2.3", v6: "/name@1.2.3(peer@1)", v5: "/name/1.2.3_peer@1".
      let k = key.replace(/^\//, '').replace(/\(.*$/, '');
      if (!/@[^@/]+$/.test(k.slice(1))) {
        const i = k.lastIndexOf('/');
        k = `${k.slice(0, i)}@${k.slice(i + 1).replace(/_.*$/, '')}`;
      }
      integrity.set(
        value.name !== undefined && value.version !== undefined
          ? `${value.name}@${value.version}`
          : k,
        sri,
      );
    }
  } else {
    const packages = (doc.packages ?? {}) as Record<
      string,
      { version?: string; integrity?: string; name?: string }
    >;
    for (const [key, value] of Object.entries(packages)) {
      if (key === '' || typeof value?.integrity !== 'string' || typeof value.version !== 'string')
        continue;
      const name =
        value.name ?? key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);
      integrity.set(`${name}@${value.version}`, value.integrity);
    }
    const walk = (
      deps:
        | Record<
            string,
            { version?: string; integrity?: string; dependencies?: Record<string, unknown> }
          >
        | undefined,
    ): void => {
      for (const [name, value] of Object.entries(deps ?? {})) {
        if (typeof value?.integrity === 'string' && typeof value.version === 'string')
          integrity.set(`${name}@${value.version}`, value.integrity);
        walk(value?.dependencies as typeof deps);
      }
    };
    walk(doc.dependencies as Parameters<typeof walk>[0]);
  }
  return { path, kind, integrity };
}

/** Relative posix path. @internal */
export function posixRelative(from: string, to: string): string {
  return relative(from, to).split(sep).join('/');
}
