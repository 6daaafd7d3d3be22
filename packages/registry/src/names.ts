import { assertValidName, isValidName } from '@mlship/core';
import { RegistryError } from './errors';

export { isValidName };

/** A parsed registry tag name (the GTO grammar). */
export type ParsedTag =
  | { kind: 'version'; name: string; version: number; tag: string }
  | { kind: 'deregister'; name: string; version: number; counter: number; tag: string }
  | { kind: 'assign'; name: string; stage: string; counter: number; tag: string }
  | { kind: 'unassign'; name: string; stage: string; counter: number; tag: string };

/** A parsed user reference to a version (see {@link parseVersionRef}). */
export type VersionRef =
  | { kind: 'version'; name: string; version: number }
  | { kind: 'latest'; name: string }
  | { kind: 'stage'; name: string; stage: string }
  | { kind: 'assignment'; name: string; stage: string; counter: number };

/** @internal Throws INVALID_NAME (a RegistryError) unless `name` is in core's name grammar. */
export function assertName(
  name: unknown,
  what: 'model' | 'stage' = 'model',
): asserts name is string {
  assertValidName(name, what, RegistryError);
}

/** @internal `vN.0.0`: registry version N as the SemVer GTO requires. */
export function semver(version: number): string {
  return `v${version}.0.0`;
}

/**
 * The GTO version tag of a version: `name@vN.0.0`.
 *
 * @param name - model name
 * @param version - version number (1, 2, ...)
 * @returns the tag name
 * @throws never: it formats without validating (check `name` with {@link isValidName})
 * @example
 * ```ts
 * versionTag('cnn', 3); // 'cnn@v3.0.0'
 * ```
 */
export function versionTag(name: string, version: number): string {
  return `${name}@${semver(version)}`;
}

/** @internal */
export function deregisterTag(name: string, version: number, counter: number): string {
  return `${name}@${semver(version)}!#${counter}`;
}

/**
 * The GTO stage-assignment tag: `name#stage#K` (or `name#stage!#K` for an unassignment).
 *
 * @param name - model name
 * @param stage - stage / alias name
 * @param counter - K, the model's event counter
 * @param unassign - true for the `!` form that removes the stage
 * @returns the tag name
 * @throws never: it formats without validating (check names with {@link isValidName})
 * @example
 * ```ts
 * stageTag('cnn', 'production', 4); // 'cnn#production#4'
 * ```
 */
export function stageTag(name: string, stage: string, counter: number, unassign = false): string {
  return `${name}#${stage}${unassign ? '!' : ''}#${counter}`;
}

const TAG_RE =
  /^(?<name>[a-z0-9][a-z0-9._-]*)(?:@v(?<major>0|[1-9]\d*)\.(?<minor>0|[1-9]\d*)\.(?<patch>0|[1-9]\d*)(?<vcancel>!)?|#(?<stage>[a-z0-9][a-z0-9._-]*)(?<scancel>!)?)(?:#(?<counter>[0-9]+))?$/;

/**
 * Parses a tag name of the registry grammar (GTO's): `name@vN.0.0`, `name@vN.0.0!#K`,
 * `name#stage#K`, `name#stage!#K`. Tags of other shapes (other SemVer versions, GTO's
 * `@deprecated`, plain release tags) return `undefined`, and so do numbers past 2^53 - 1, which
 * JavaScript cannot count exactly.
 *
 * @param tag - a tag name without `refs/tags/`
 * @returns the parsed tag, or undefined
 * @throws never (a tag of another grammar gives `undefined`)
 * @example
 * ```ts
 * parseTag('cnn#production#3'); // { kind: 'assign', name: 'cnn', stage: 'production', counter: 3, ... }
 * ```
 */
export function parseTag(tag: string): ParsedTag | undefined {
  const m = typeof tag === 'string' ? TAG_RE.exec(tag) : null;
  const g = m?.groups;
  if (!g?.name || !isValidName(g.name)) return undefined;
  const counter = g.counter === undefined ? undefined : Number(g.counter);
  // A counter past 2^53 cannot be represented exactly (K + 1 would equal K): not a tag of ours.
  if (counter !== undefined && !Number.isSafeInteger(counter)) return undefined;
  if (g.major !== undefined) {
    if (g.minor !== '0' || g.patch !== '0') return undefined;
    const version = Number(g.major);
    if (!Number.isSafeInteger(version) || version < 1) return undefined;
    if (g.vcancel) {
      return counter === undefined
        ? undefined
        : { kind: 'deregister', name: g.name, version, counter, tag };
    }
    return counter === undefined ? { kind: 'version', name: g.name, version, tag } : undefined;
  }
  if (g.stage !== undefined && isValidName(g.stage) && counter !== undefined) {
    return { kind: g.scancel ? 'unassign' : 'assign', name: g.name, stage: g.stage, counter, tag };
  }
  return undefined;
}

const REF_RE =
  /^(?<name>[a-z0-9][a-z0-9._-]*)(?:@(?:(?<latest>latest|greatest)|v?(?<major>[1-9]\d*)(?:\.0\.0)?)|#(?<stage>[a-z0-9][a-z0-9._-]*)(?:#(?<counter>[0-9]+))?)?$/;

/**
 * Parses a version reference: `name@v3`, `name@3`, `name@v3.0.0` (the version tag), `name@latest`,
 * `name` (same as latest), `name#production` (the version the stage points at now) or
 * `name#production#5` (the version a past assignment event pointed at).
 *
 * @param ref - the reference
 * @returns the parsed reference
 * @throws RegistryError `INVALID_REF` when `ref` fits none of these forms
 * @example
 * ```ts
 * parseVersionRef('cnn#production'); // { kind: 'stage', name: 'cnn', stage: 'production' }
 * ```
 */
export function parseVersionRef(ref: string): VersionRef {
  const g = typeof ref === 'string' ? REF_RE.exec(ref)?.groups : undefined;
  const unsafe = (n: string | undefined): boolean =>
    n !== undefined && !Number.isSafeInteger(Number(n));
  if (
    !g?.name ||
    !isValidName(g.name) ||
    (g.stage !== undefined && !isValidName(g.stage)) ||
    unsafe(g.major) ||
    unsafe(g.counter)
  ) {
    throw new RegistryError(
      'INVALID_REF',
      `Invalid version reference ${JSON.stringify(ref)}: expected name@vN, name@vN.0.0, name@latest, name#stage or name#stage#K (N, K at most 2^53 - 1)`,
      { data: { ref: String(ref) } },
    );
  }
  if (g.major !== undefined) return { kind: 'version', name: g.name, version: Number(g.major) };
  if (g.stage !== undefined) {
    return g.counter === undefined
      ? { kind: 'stage', name: g.name, stage: g.stage }
      : { kind: 'assignment', name: g.name, stage: g.stage, counter: Number(g.counter) };
  }
  return { kind: 'latest', name: g.name };
}

/**
 * @internal Whether `name` is a valid git branch name, by the rules of `git check-ref-format
 * --branch`: no component starting with `.` or ending in `.lock`, no `..`, `@{`, `//`, control
 * characters, space, `~ ^ : ? * [ \`, not starting with `-` or `/`, not ending with `/` or `.`, not
 * `HEAD` (git refuses a branch of that name) and not `@` (git reads it as HEAD in a repository).
 */
export function isValidBranchName(name: unknown): name is string {
  if (typeof name !== 'string' || name === '' || name === '@' || name === 'HEAD') return false;
  if (name.startsWith('-')) return false;
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(name)) return false;
  if (name.includes('..') || name.includes('@{') || name.includes('//')) return false;
  if (name.startsWith('/') || name.endsWith('/') || name.endsWith('.')) return false;
  return name.split('/').every((c) => c !== '' && !c.startsWith('.') && !c.endsWith('.lock'));
}
