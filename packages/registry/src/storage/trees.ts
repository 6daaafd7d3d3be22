import * as git from 'isomorphic-git';
import { gitArgs, retryRead, type RegistryContext } from '../context';
import type { ObjectWriter, TreeEntry } from './objects';

/** @internal The entries of a commit's tree (or of a subtree at `filepath`); `[]` when absent. */
export async function treeEntries(
  ctx: RegistryContext,
  oid: string | undefined,
  filepath?: string,
): Promise<TreeEntry[]> {
  if (!oid) return [];
  try {
    const { tree } = await retryRead(() =>
      git.readTree({ ...gitArgs(ctx), oid, ...(filepath ? { filepath } : {}) }),
    );
    return tree.map((e) => ({
      mode: e.mode === '040000' ? '40000' : (e.mode as TreeEntry['mode']),
      name: e.path,
      oid: e.oid,
    }));
  } catch (e) {
    if ((e as { code?: string }).code === 'NotFoundError') return [];
    throw e;
  }
}

/** @internal Every file under `dir` of a commit's tree, relative to `dir`, sorted by path. */
export async function listTreeFiles(
  ctx: RegistryContext,
  commit: string,
  dir: string,
): Promise<{ path: string; oid: string }[]> {
  const out: { path: string; oid: string }[] = [];
  const walk = async (filepath: string, prefix: string): Promise<void> => {
    for (const e of await treeEntries(ctx, commit, filepath)) {
      if (e.mode === '40000') await walk(`${filepath}/${e.name}`, `${prefix}${e.name}/`);
      else out.push({ path: `${prefix}${e.name}`, oid: e.oid });
    }
  };
  await walk(dir, '');
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** @internal Writes the trees of a directory given as `path -> blob oid`; returns the root tree. */
export async function writeDirTree(
  w: ObjectWriter,
  files: readonly { path: string; oid: string }[],
): Promise<string> {
  const here: TreeEntry[] = [];
  const sub = new Map<string, { path: string; oid: string }[]>();
  for (const f of files) {
    const i = f.path.indexOf('/');
    if (i < 0) here.push({ mode: '100644', name: f.path, oid: f.oid });
    else {
      const d = f.path.slice(0, i);
      sub.set(d, [...(sub.get(d) ?? []), { path: f.path.slice(i + 1), oid: f.oid }]);
    }
  }
  for (const [d, fs] of sub) here.push({ mode: '40000', name: d, oid: await writeDirTree(w, fs) });
  return w.tree(here);
}

/** @internal `entries` with `entry` added, replacing one of the same name. */
export function replaceEntry(entries: readonly TreeEntry[], entry: TreeEntry): TreeEntry[] {
  return [...entries.filter((e) => e.name !== entry.name), entry];
}
