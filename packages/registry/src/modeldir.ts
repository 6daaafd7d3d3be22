import { createHash } from 'node:crypto';
import { RegistryError } from './errors';
import type { FsAdapter } from './fs';
import type { ModelFileInfo } from './types';

/** @internal A validated model directory in memory. */
export interface LoadedModelDir {
  meta: Record<string, unknown>;
  files: { path: string; data: Uint8Array; sha256: string }[];
}

/** @internal */
export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** @internal A safe relative posix path inside a model directory. */
export function isSafeRelativePath(p: string): boolean {
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

async function listFiles(fsa: FsAdapter, root: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await fsa.readdir(prefix ? `${root}/${prefix}` : root)) {
    const rel = prefix ? `${prefix}/${entry}` : entry;
    if (await fsa.isDirectory(`${root}/${rel}`)) out.push(...(await listFiles(fsa, root, rel)));
    else out.push(rel);
  }
  return out;
}

/** @internal Parses and checks the `files` map of an mlship.json object. */
export function filesOf(
  meta: Record<string, unknown>,
  where: string,
): Record<string, ModelFileInfo> {
  const files = meta.files;
  if (typeof files !== 'object' || files === null || Array.isArray(files)) {
    throw new RegistryError(
      'INVALID_META',
      `${where}/mlship.json has no "files" map (expected { "<path>": { "sha256", "bytes" } })`,
      {
        data: { path: `${where}/mlship.json` },
      },
    );
  }
  const out: Record<string, ModelFileInfo> = {};
  for (const [p, info] of Object.entries(files as Record<string, unknown>)) {
    const i = info as Partial<ModelFileInfo> | null;
    if (
      !isSafeRelativePath(p) ||
      p === 'mlship.json' ||
      typeof i?.sha256 !== 'string' ||
      !/^[0-9a-f]{64}$/.test(i.sha256) ||
      typeof i.bytes !== 'number'
    ) {
      throw new RegistryError(
        'INVALID_META',
        `${where}/mlship.json lists an invalid file entry ${JSON.stringify(p)}: expected a relative path with { sha256: <64 hex>, bytes: <number> }`,
        {
          data: { path: `${where}/mlship.json`, file: p },
        },
      );
    }
    out[p] = { sha256: i.sha256, bytes: i.bytes };
  }
  return out;
}

/**
 * @internal Reads a model directory and checks it: mlship.json in format `mlship-model/1`,
 * model.json listed, every listed file present with its sha256 and size, nothing unlisted.
 */
export async function loadModelDir(fsa: FsAdapter, dir: string): Promise<LoadedModelDir> {
  if (!(await fsa.isDirectory(dir))) {
    throw new RegistryError(
      'NOT_A_MODEL_DIR',
      `Model directory ${dir} does not exist or is not a directory`,
      { data: { path: dir } },
    );
  }
  const rawBytes = await fsa.read(`${dir}/mlship.json`);
  const raw = rawBytes === undefined ? undefined : new TextDecoder().decode(rawBytes);
  if (raw === undefined || rawBytes === undefined) {
    throw new RegistryError(
      'NOT_A_MODEL_DIR',
      `${dir} is not a model directory: mlship.json is missing (expected model.json, *.weights.bin and mlship.json)`,
      {
        data: { path: dir },
      },
    );
  }
  let meta: Record<string, unknown>;
  try {
    meta = JSON.parse(raw) as Record<string, unknown>;
  } catch (e) {
    throw new RegistryError('INVALID_META', `${dir}/mlship.json is not valid JSON`, {
      cause: e,
      data: { path: `${dir}/mlship.json` },
    });
  }
  if (typeof meta !== 'object' || meta === null || meta.format !== 'mlship-model/1') {
    throw new RegistryError(
      'INVALID_META',
      `${dir}/mlship.json has format ${JSON.stringify((meta as { format?: unknown } | null)?.format)}, expected "mlship-model/1"`,
      {
        data: { path: `${dir}/mlship.json` },
      },
    );
  }
  const listed = filesOf(meta, dir);
  if (!listed['model.json']) {
    throw new RegistryError('NOT_A_MODEL_DIR', `${dir}/mlship.json does not list model.json`, {
      data: { path: `${dir}/mlship.json` },
    });
  }
  const files: LoadedModelDir['files'] = [];
  for (const [p, info] of Object.entries(listed)) {
    const data = await fsa.read(`${dir}/${p}`);
    if (data === undefined) {
      throw new RegistryError('INTEGRITY', `${dir}/${p} is listed in mlship.json but missing`, {
        data: { path: `${dir}/${p}`, reason: 'missing' },
      });
    }
    const sha = sha256Hex(data);
    if (sha !== info.sha256 || data.length !== info.bytes) {
      throw new RegistryError(
        'INTEGRITY',
        `${dir}/${p} has sha256 ${sha} (${data.length} bytes), mlship.json expects ${info.sha256} (${info.bytes} bytes)`,
        {
          data: {
            path: `${dir}/${p}`,
            reason: data.length !== info.bytes ? 'size' : 'sha256',
            expected: info,
            actual: { sha256: sha, bytes: data.length },
          },
        },
      );
    }
    files.push({ path: p, data, sha256: sha });
  }
  for (const p of await listFiles(fsa, dir)) {
    if (p !== 'mlship.json' && !listed[p]) {
      throw new RegistryError(
        'INTEGRITY',
        `${dir}/${p} is not listed in mlship.json "files" (every file of a model directory must be)`,
        { data: { path: `${dir}/${p}`, reason: 'unlisted' } },
      );
    }
  }
  files.push({ path: 'mlship.json', data: rawBytes, sha256: sha256Hex(rawBytes) });
  return { meta, files };
}
