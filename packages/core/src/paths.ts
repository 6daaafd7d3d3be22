/**
 * Whether `p` is a safe relative posix path inside a directory: not empty, not absolute, no `.` or
 * `..` or empty segment, no backslash or NUL, and no `.git` segment (any case). Every path listed
 * in mlship.json and every path the registry writes must be one.
 *
 * @param p - candidate path
 * @returns true when safe
 * @throws never
 * @example
 * ```ts
 * isSafeRelativePath('features_conv1.weights.bin'); // true
 * isSafeRelativePath('../etc/passwd'); // false
 * ```
 */
export function isSafeRelativePath(p: unknown): p is string {
  if (
    typeof p !== 'string' ||
    p.length === 0 ||
    p.startsWith('/') ||
    p.includes('\\') ||
    p.includes('\0')
  )
    return false;
  return p
    .split('/')
    .every((seg) => seg !== '' && seg !== '.' && seg !== '..' && seg.toLowerCase() !== '.git');
}

/**
 * Joins a directory and a safe relative posix path with `/` (the form every mlship fs accepts:
 * node:fs, memfs, LightningFS). Trailing slashes of `dir` are dropped.
 *
 * @param dir - a directory
 * @param rel - a relative posix path
 * @returns `dir/rel`
 * @throws never
 * @example
 * ```ts
 * joinPath('/srv/models/cnn/', 'model.json'); // '/srv/models/cnn/model.json'
 * ```
 */
export function joinPath(dir: string, rel: string): string {
  const base = dir.length > 1 ? dir.replace(/\/+$/, '') : dir;
  if (base === '' || base === '.') return rel;
  return base === '/' ? `/${rel}` : `${base}/${rel}`;
}

/**
 * The parent directory of a `/`-separated path (`.` for a bare name, `/` for a root child).
 *
 * @param p - a path
 * @returns its parent
 * @throws never
 * @example
 * ```ts
 * parentPath('/srv/models/cnn'); // '/srv/models'
 * ```
 */
export function parentPath(p: string): string {
  const trimmed = p.length > 1 ? p.replace(/\/+$/, '') : p;
  const i = trimmed.lastIndexOf('/');
  if (i < 0) return '.';
  return i === 0 ? '/' : trimmed.slice(0, i);
}

/**
 * The last segment of a `/`-separated path.
 *
 * @param p - a path
 * @returns its base name
 * @throws never
 * @example
 * ```ts
 * baseName('/srv/models/cnn/'); // 'cnn'
 * ```
 */
export function baseName(p: string): string {
  const trimmed = p.length > 1 ? p.replace(/\/+$/, '') : p;
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}
