import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * @internal
 * `require` functions anchored where a package may be installed: next to this module (works in
 * both the ESM and the CJS build: `import.meta.url` is empty in CJS, `__filename` is undefined in
 * ESM) and at the current working directory (where an application installs optional peers).
 */
export function anchoredRequires(): NodeJS.Require[] {
  const bases: string[] = [];
  if (typeof __filename === 'string' && __filename !== '') {
    bases.push(__filename);
  } else {
    const url = moduleUrl();
    if (url !== undefined) bases.push(url);
  }
  bases.push(path.join(process.cwd(), 'noop.js'));
  return bases.map((base) => createRequire(base));
}

function moduleUrl(): string | undefined {
  try {
    const url: unknown = import.meta.url;
    return typeof url === 'string' && url !== '' ? url : undefined;
  } catch {
    return undefined;
  }
}

/** @internal The outcome of looking a package up from every anchor. */
export type Resolution =
  { ok: true; path: string; require: NodeJS.Require } | { ok: false; error: unknown };

/** @internal Resolves `specifier` from the first anchor that can see it. */
export function resolveFromAnchors(specifier: string): Resolution {
  let firstError: unknown;
  for (const req of anchoredRequires()) {
    try {
      return { ok: true, path: req.resolve(specifier), require: req };
    } catch (e) {
      firstError ??= e;
    }
  }
  return { ok: false, error: firstError };
}
