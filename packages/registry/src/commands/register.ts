import { withLock, type RegistryContext } from '../context';
import { RegistryError } from '../errors';
import { filesOf, loadModelDir } from '../modeldir';
import { assertName, parseVersionRef, versionTag } from '../names';
import { ObjectWriter, personLine } from '../storage/objects';
import { MODELS_DIR, REGISTRY_DIR, readRecordAt } from '../storage/records';
import { readRef, writeRef } from '../storage/refs';
import { emptyState, resolveIn, scanModels, stamp } from '../storage/state';
import { writeStageTag, writeVersionTagObject } from '../storage/tags';
import { replaceEntry, treeEntries, writeDirTree } from '../storage/trees';
import type { DatasetInfo, RegisterOptions, ResolvedVersion, VersionRecord } from '../types';
import { repairLocked } from './repair';

const enc = new TextEncoder();

/**
 * Validates a model directory and registers it as the next version of `name`: blobs first (inert),
 * then the branch moves under the lock (the commit point), then the version tag and any stages.
 *
 * @param ctx - the registry
 * @param name - model name
 * @param modelDir - a model directory
 * @param options - metrics, params, datasets, parent, strategy, tags, message, stages
 * @returns the new version
 * @throws RegistryError `INVALID_NAME`, `INVALID_OPTION`, `NOT_A_MODEL_DIR`, `INVALID_META`,
 *   `INTEGRITY`, `VERSION_NOT_FOUND` (parent), `LOCK_TIMEOUT`, `REF_CONFLICT`
 */
export async function register(
  ctx: RegistryContext,
  name: string,
  modelDir: string,
  options: RegisterOptions = {},
): Promise<ResolvedVersion> {
  assertName(name);
  for (const s of options.stages ?? []) assertName(s, 'stage');
  for (const [k, v] of Object.entries(options.metrics ?? {})) {
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new RegistryError(
        'INVALID_OPTION',
        `Metric ${JSON.stringify(k)} is ${JSON.stringify(v)}: metrics must be finite numbers`,
        { data: { metric: k } },
      );
    }
  }
  const loaded = await loadModelDir(ctx.fsa, modelDir);
  const w = new ObjectWriter(ctx.fsa, ctx.gitdir, ctx.cache);
  const fileOids: { path: string; oid: string }[] = [];
  for (const f of loaded.files) fileOids.push({ path: f.path, oid: await w.blob(f.data) });
  const modelTree = await writeDirTree(w, fileOids);
  const meta = loaded.meta;
  const files = filesOf(meta, modelDir);
  const metaFile = loaded.files.find((f) => f.path === 'mlship.json')!;
  files['mlship.json'] = { sha256: metaFile.sha256, bytes: metaFile.data.length };

  return withLock(ctx, async () => {
    await repairLocked(ctx);
    // In a fresh `git clone` the registry branch exists only as origin's remote-tracking ref:
    // build on it rather than starting a second, unrelated history.
    const localTip = await readRef(ctx, ctx.branchRef);
    const tip =
      localTip ??
      (await readRef(ctx, ctx.branchRef.replace(/^refs\/heads\//, 'refs/remotes/origin/')));
    const state = await scanModels(ctx);
    const m = state.get(name) ?? emptyState();
    const tipRecord = tip ? await readRecordAt(ctx, tip, name) : undefined;
    const version =
      Math.max(0, tipRecord?.version ?? 0, ...m.versions.keys(), ...m.deregistered) + 1;
    const tag = versionTag(name, version);

    let parent: string | null = null;
    const parentIn = options.parent !== undefined ? options.parent : meta.parent;
    if (typeof parentIn === 'string' && parentIn) {
      try {
        const pr = parseVersionRef(parentIn);
        parent = resolveIn(pr.name, state.get(pr.name) ?? emptyState(), parentIn).tag;
      } catch (e) {
        // An explicit parent must exist here; one recorded in mlship.json may name a model
        // outside this registry, and is kept as written (lineage stops there).
        if (options.parent !== undefined) throw e;
        parent = parentIn;
      }
    } else if (parentIn && typeof parentIn === 'object') {
      const p = parentIn as { name?: unknown; version?: unknown; ref?: unknown };
      if (typeof p.name === 'string' && typeof p.version === 'number')
        parent = versionTag(p.name, p.version);
      else if (typeof p.ref === 'string') parent = p.ref;
    }
    const now = stamp(ctx, m);
    const record: VersionRecord = {
      format: 'mlship-registry-version/1',
      name,
      version,
      tag,
      created: new Date(Math.floor(now.getTime() / 1000) * 1000).toISOString(),
      message: options.message ?? '',
      path: `${MODELS_DIR}/${name}`,
      metrics: {
        ...((meta.metrics as Record<string, number> | undefined) ?? {}),
        ...(options.metrics ?? {}),
      },
      params: {
        ...((meta.training as Record<string, unknown> | undefined) ?? {}),
        ...(options.params ?? {}),
      },
      datasets: {
        ...((meta.datasets as Record<string, DatasetInfo> | undefined) ?? {}),
        ...(options.datasets ?? {}),
      },
      parent,
      strategy:
        options.strategy !== undefined
          ? options.strategy
          : typeof meta.strategy === 'string'
            ? meta.strategy
            : null,
      tags: { ...(options.tags ?? {}) },
      files,
    };
    const recordOid = await w.blob(enc.encode(`${JSON.stringify(record, null, 2)}\n`));

    const rootEntries = await treeEntries(ctx, tip);
    const modelsEntries = replaceEntry(await treeEntries(ctx, tip, MODELS_DIR), {
      mode: '40000',
      name,
      oid: modelTree,
    });
    const regEntries = replaceEntry(await treeEntries(ctx, tip, REGISTRY_DIR), {
      mode: '100644',
      name: `${name}.json`,
      oid: recordOid,
    });
    const dvcYaml = `# Written by @mlship/registry so GTO can show artifact paths and types.\nartifacts:\n${modelsEntries
      .map((e) => e.name)
      .sort()
      .map((n) => `  ${n}:\n    type: model\n    path: ${MODELS_DIR}/${n}\n`)
      .join('')}`;
    let root = replaceEntry(rootEntries, {
      mode: '40000',
      name: MODELS_DIR,
      oid: await w.tree(modelsEntries),
    });
    root = replaceEntry(root, { mode: '40000', name: REGISTRY_DIR, oid: await w.tree(regEntries) });
    root = replaceEntry(root, {
      mode: '100644',
      name: 'dvc.yaml',
      oid: await w.blob(enc.encode(dvcYaml)),
    });
    const rootTree = await w.tree(root);
    const person = personLine(ctx.author, now);
    const trailers = [
      `Mlship-Model: ${name}`,
      `Mlship-Version: ${version}`,
      ...(parent ? [`Mlship-Parent: ${parent}`] : []),
    ];
    const commit = await w.commit({
      tree: rootTree,
      parents: tip ? [tip] : [],
      author: person,
      committer: person,
      message: `Register ${tag}\n\n${options.message ? `${options.message}\n\n` : ''}${trailers.join('\n')}\n`,
    });
    const tagOid = await writeVersionTagObject(w, record, commit, person);

    // Commit point: the branch moves (compare-and-swap under the lock), then the tag follows.
    if ((await readRef(ctx, ctx.branchRef)) !== localTip) {
      throw new RegistryError(
        'REF_CONFLICT',
        `${ctx.branchRef} moved while registering ${tag}; expected ${localTip ?? '(none)'}`,
        { data: { ref: ctx.branchRef } },
      );
    }
    await writeRef(ctx, ctx.branchRef, commit);
    await writeRef(ctx, `refs/tags/${tag}`, tagOid);
    const out: ResolvedVersion = { name, version, tag, commit };
    let counter = m.maxCounter;
    for (const stage of options.stages ?? []) {
      counter += 1;
      await writeStageTag(
        ctx,
        w,
        out,
        stage,
        counter,
        false,
        `Assigned with ${tag}`,
        stamp(ctx, m),
      );
    }
    return out;
  });
}
