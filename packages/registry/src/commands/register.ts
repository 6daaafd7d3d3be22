import {
  joinPath,
  readModelFiles,
  readModelMeta,
  verifyModelFiles,
  type ModelMeta,
} from '@mlship/core';
import { assertWritable, withLock, type RegistryContext } from '../context';
import { RegistryError, toRegistryError, operation } from '../errors';
import { assertName, stageTag, versionTag } from '../names';
import { OPTION_KEYS, checkKeys, checkString } from '../options';
import { shouldStream } from '../storage/blob-stream';
import { ObjectWriter, personLine } from '../storage/objects';
import { MODELS_DIR, REGISTRY_DIR, readRecordAt } from '../storage/records';
import { readRef, writeRef } from '../storage/refs';
import { emptyHead, getHeads, refStats, saveHeads, stampHead } from '../storage/heads';
import { writeVersionTagObject } from '../storage/tags';
import { replaceEntry, treeEntries, writeDirTree } from '../storage/trees';
import type {
  DatasetInfo,
  ModelFileInfo,
  RegisterOptions,
  ResolvedVersion,
  VersionRecord,
} from '../types';
import { completeRegistration, repairLocked } from './repair';
import { resolve } from './resolve';

const enc = new TextEncoder();

/** The strategy name a version record keeps: the name, or the `kind` of a strategy object. */
function strategyName(strategy: ModelMeta['strategy']): string | null {
  if (typeof strategy === 'string') return strategy;
  const kind = strategy?.['kind'] ?? strategy?.['name'];
  return typeof kind === 'string' ? kind : null;
}

/** The parent a version record keeps: a ref as written, or the tag of a `{ name, version }` parent. */
function parentRef(parent: ModelMeta['parent']): string | null {
  if (typeof parent === 'string') return parent === '' ? null : parent;
  return parent ? versionTag(parent.name, parent.version) : null;
}

/** Checks the register options a plain-JavaScript caller may get wrong. */
function checkRegisterOptions(options: RegisterOptions): void {
  checkKeys(options, OPTION_KEYS.register, 'register options');
  for (const [k, v] of Object.entries(options.metrics ?? {})) {
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new RegistryError(
        'INVALID_OPTION',
        `Metric ${JSON.stringify(k)} is ${JSON.stringify(v)}: metrics must be finite numbers`,
        { data: { path: `metrics.${k}`, metric: k } },
      );
    }
  }
  if (options.stages !== undefined && !Array.isArray(options.stages)) {
    throw new RegistryError(
      'INVALID_OPTION',
      `register options: stages: expected an array of stage names, got ${JSON.stringify(options.stages)}`,
      { data: { path: 'stages' } },
    );
  }
  for (const s of options.stages ?? []) assertName(s, 'stage');
  if (options.message !== undefined && typeof options.message !== 'string')
    checkString(options.message, 'register options: message');
  if (typeof options.parent === 'string') checkString(options.parent, 'register options: parent');
}

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
export const register = operation(
  'WRITE_FAILED',
  async function register(
    ctx: RegistryContext,
    name: string,
    modelDir: string,
    options: RegisterOptions = {},
  ): Promise<ResolvedVersion> {
    assertName(name);
    checkRegisterOptions(options);
    assertWritable(ctx);
    checkString(modelDir, 'register: modelDir');
    const w = new ObjectWriter(ctx.fsa, ctx.gitdir, ctx.cache);
    const fileOids: { path: string; oid: string }[] = [];
    const files: Record<string, ModelFileInfo> = {};
    const read = <T>(fn: () => Promise<T>): Promise<T> =>
      fn().catch((e: unknown) => {
        throw toRegistryError(e, { code: 'READ_FAILED', message: `reading ${modelDir}` });
      });
    const listed = await read(() => readModelMeta(modelDir, { fs: ctx.fsa }));
    const total = Object.values(listed.files).reduce((n, f) => n + f.bytes, 0);
    let meta: ModelMeta;
    if (shouldStream(ctx.fsa, total)) {
      // Verified with core's rules, hashing in chunks; then each file is streamed into its blob,
      // checked again against the same sha256 on the way: memory stays near one chunk.
      const verified = await read(() => verifyModelFiles(modelDir, { fs: ctx.fsa }));
      for (const f of verified.files) {
        fileOids.push({ path: f.path, oid: await w.blobFromFile(joinPath(modelDir, f.path), f) });
        files[f.path] = { sha256: f.sha256, bytes: f.bytes };
      }
      meta = verified.meta;
    } else {
      // a small model (or an fs without `open`): read whole, verified bytes kept
      const loaded = await read(() => readModelFiles(modelDir, { fs: ctx.fsa }));
      for (const f of loaded.files) {
        fileOids.push({ path: f.path, oid: await w.blob(f.data) });
        files[f.path] = { sha256: f.sha256, bytes: f.bytes };
      }
      meta = loaded.meta;
    }
    const modelTree = await writeDirTree(w, fileOids);

    return withLock(ctx, async () => {
      await repairLocked(ctx);
      // In a fresh `git clone` the registry branch exists only as origin's remote-tracking ref:
      // build on it rather than starting a second, unrelated history.
      const localTip = await readRef(ctx, ctx.branchRef);
      const tip =
        localTip ??
        (await readRef(ctx, ctx.branchRef.replace(/^refs\/heads\//, 'refs/remotes/origin/')));
      // the model's head (highest version and counter, last tag time) beside the refs: no scan
      // of every tag (see storage/heads)
      const heads = await getHeads(ctx);
      const m = heads[name] ?? emptyHead();
      const tipRecord = tip ? await readRecordAt(ctx, tip, name) : undefined;
      const version = Math.max(0, tipRecord?.version ?? 0, m.maxVersion, ...m.deregistered) + 1;
      const tag = versionTag(name, version);

      let parent = options.parent !== undefined ? options.parent : parentRef(meta.parent);
      if (typeof parent === 'string' && typeof meta.parent === 'string') {
        try {
          parent = (await resolve(ctx, parent)).tag;
        } catch {
          // A parent recorded in mlship.json may name a model outside this registry: it is kept
          // as written (lineage stops there).
        }
      } else if (typeof parent === 'string' && options.parent !== undefined) {
        // An explicit parent must exist here.
        parent = (await resolve(ctx, parent)).tag;
      }
      const now = stampHead(ctx, m);
      const record: VersionRecord = {
        format: 'mlship-registry-version/1',
        name,
        version,
        tag,
        created: new Date(Math.floor(now.getTime() / 1000) * 1000).toISOString(),
        message: options.message ?? '',
        path: `${MODELS_DIR}/${name}`,
        metrics: { ...meta.metrics, ...options.metrics },
        params: { ...meta.training, ...options.params },
        datasets: {
          ...Object.fromEntries(
            Object.entries(meta.datasets).map(([role, d]): [string, DatasetInfo] => [
              role,
              { ...d },
            ]),
          ),
          ...options.datasets,
        },
        parent,
        strategy: options.strategy !== undefined ? options.strategy : strategyName(meta.strategy),
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
      root = replaceEntry(root, {
        mode: '40000',
        name: REGISTRY_DIR,
        oid: await w.tree(regEntries),
      });
      root = replaceEntry(root, {
        mode: '100644',
        name: 'dvc.yaml',
        oid: await w.blob(enc.encode(dvcYaml)),
      });
      const rootTree = await w.tree(root);
      const person = personLine(ctx.author, now);
      // The stages this registration assigns, with their event counters, are part of the commit:
      // a crash after the commit point is completed by repair, stages included.
      const stages = (options.stages ?? []).map((stage, i) => ({
        stage,
        counter: m.maxCounter + i + 1,
      }));
      const trailers = [
        `Mlship-Model: ${name}`,
        `Mlship-Version: ${version}`,
        ...(parent ? [`Mlship-Parent: ${parent}`] : []),
        ...stages.map((s) => `Mlship-Stage: ${s.stage}#${s.counter}`),
      ];
      // Never overwrite a ref: a tag of these names made by hand (or by another tool) stops here,
      // before anything is committed.
      for (const t of [tag, ...stages.map((s) => stageTag(name, s.stage, s.counter))]) {
        if (await readRef(ctx, `refs/tags/${t}`)) {
          throw new RegistryError(
            'REF_CONFLICT',
            `Tag ${t} already exists; the registry never overwrites a ref (remove or rename the tag, or run repair)`,
            { data: { ref: t } },
          );
        }
      }
      const commit = await w.commit({
        tree: rootTree,
        parents: tip ? [tip] : [],
        author: person,
        committer: person,
        message: `Register ${tag}\n\n${options.message ? `${options.message}\n\n` : ''}${trailers.join('\n')}\n`,
      });
      // the version tag object too is written before the commit point (inert until its ref)
      await writeVersionTagObject(w, record, commit, person);

      // Commit point: the branch moves (compare-and-swap under the lock), then the tag follows.
      if ((await readRef(ctx, ctx.branchRef)) !== localTip) {
        throw new RegistryError(
          'REF_CONFLICT',
          `${ctx.branchRef} moved while registering ${tag}; expected ${localTip ?? '(none)'}`,
          { data: { ref: ctx.branchRef } },
        );
      }
      await writeRef(ctx, ctx.branchRef, commit, { oid: localTip });
      // the same code as repair: the version tag (object already written), then stages
      await completeRegistration(ctx, w, commit);
      // the head learns what this registration wrote (stage i was stamped at `now` + i seconds)
      heads[name] = {
        ...m,
        maxVersion: version,
        maxCounter: m.maxCounter + stages.length,
        lastTime: m.lastTime + stages.length,
        versions: m.versions + 1,
        latest: { version, commit },
        stages: {
          ...m.stages,
          ...Object.fromEntries(stages.map((s) => [s.stage, { version, commit }])),
        },
      };
      await saveHeads(ctx, heads, await refStats(ctx));
      return { name, version, tag, commit };
    });
  },
  (_ctx, name, modelDir) => `registering ${String(modelDir)} as ${String(name)}`,
);
