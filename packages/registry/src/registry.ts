import * as git from 'isomorphic-git';
import { RegistryError, isRegistryError } from './errors.js';
import { FsAdapter, defaultFs, type RegistryFs } from './fs.js';
import { FileLock, type LockOptions } from './lock.js';
import {
  filesOf,
  isSafeRelativePath,
  loadModelDir,
  sha256Hex,
  type ModelFileInfo,
} from './modeldir.js';
import {
  assertName,
  isValidName,
  deregisterTag,
  parseTag,
  parseVersionRef,
  semver,
  stageTag,
  versionTag,
  type ParsedTag,
} from './names.js';
import { diffRecords, type RegistryDiff } from './diff.js';
import {
  pullRegistry,
  pushRegistry,
  type PullResult,
  type PushResult,
  type RemoteOptions,
} from './remote.js';
import { ObjectWriter, gitObjectId, personLine, type Identity, type TreeEntry } from './objects.js';

/** Options of {@link openRegistry}. */
export interface OpenRegistryOptions {
  /** The repository: a working tree (with `.git`) or a bare repository directory. */
  dir: string;
  /** The git directory, when it is not `<dir>/.git` (working tree) or `dir` (bare). */
  gitdir?: string;
  /** Create the repository when `dir` holds none. Default true. */
  create?: boolean;
  /** Create a bare repository (only used when creating). Default false. */
  bare?: boolean;
  /** File system, as isomorphic-git takes it. Default `node:fs`. */
  fs?: RegistryFs;
  /** Author, committer and tagger of everything the registry writes. Default `mlship <mlship@localhost>`. */
  author?: Identity;
  /** Clock for commit and tag times. Default `() => new Date()`. */
  clock?: () => Date;
  /** Branch holding the registry's commits. Default `mlship` (`refs/heads/mlship`). */
  branch?: string;
  /** Write-lock behaviour. */
  lock?: LockOptions;
}

/** A dataset a version was trained or evaluated on. */
export interface DatasetInfo {
  /** `sha256:<hex>` from @mlship/data `fingerprint`. */
  fingerprint: string;
  /** Number of examples. */
  count?: number;
  [key: string]: unknown;
}

/** Options of {@link Registry.register}. Each one overrides or extends what mlship.json says. */
export interface RegisterOptions {
  /** Metrics (merged over mlship.json `metrics`). */
  metrics?: Record<string, number>;
  /** Parameters (merged over mlship.json `training`). */
  params?: Record<string, unknown>;
  /** Datasets by role (merged over mlship.json `datasets`). */
  datasets?: Record<string, DatasetInfo>;
  /** Parent version ref (e.g. `cnn@v1`); default: mlship.json `parent`. Must resolve in this registry. */
  parent?: string | null;
  /** Transfer strategy; default: mlship.json `strategy`. */
  strategy?: string | null;
  /** Free-form key/value labels stored with the version. */
  tags?: Record<string, string>;
  /** A message for the commit and the version tag. */
  message?: string;
  /** Stages to assign to the new version right after it is registered. */
  stages?: readonly string[];
}

/** A version as the registry identifies it. */
export interface ResolvedVersion {
  /** Model name. */
  name: string;
  /** Version number, 1, 2, 3... per model, never reused. */
  version: number;
  /** The GTO version tag, `name@vN.0.0`. */
  tag: string;
  /** The commit holding the version. */
  commit: string;
}

/** What the registry stores about a version (`.mlship/<name>.json` at its commit and in its tag). */
export interface VersionRecord {
  format: 'mlship-registry-version/1';
  name: string;
  version: number;
  tag: string;
  created: string;
  message: string;
  path: string;
  metrics: Record<string, number>;
  params: Record<string, unknown>;
  datasets: Record<string, DatasetInfo>;
  parent: string | null;
  strategy: string | null;
  tags: Record<string, string>;
  files: Record<string, ModelFileInfo>;
}

/** A row of {@link Registry.versions}. */
export interface VersionSummary extends ResolvedVersion {
  created: string;
  message: string;
  metrics: Record<string, number>;
  /** Stages currently pointing at this version. */
  stages: string[];
  /** True when a deregistration tag (`name@vN.0.0!#K`) retired it. */
  deregistered: boolean;
}

/** A row of {@link Registry.models}. */
export interface ModelSummary {
  name: string;
  /** Latest (highest, not deregistered) version, or null. */
  latest: number | null;
  /** Number of version tags. */
  versions: number;
  /** Current stage -> version. */
  stages: Record<string, number>;
}

/** A file of a stored version. */
export interface VersionFile {
  /** Path relative to the model directory. */
  path: string;
  sha256: string;
  bytes: number;
  /** git blob id. */
  oid: string;
}

/** Everything {@link Registry.show} knows about one version. */
export interface VersionDetails extends VersionSummary {
  record: VersionRecord;
  /** The model directory's mlship.json. */
  metadata: Record<string, unknown>;
  files: VersionFile[];
  /** The parent version, null at a root or when it is not in this registry. */
  parent: ResolvedVersion | null;
  /** The version and its ancestors, newest first (as {@link Registry.lineage}). */
  lineage: LineageStep[];
}

/** One stage assignment or unassignment (a `name#stage#K` / `name#stage!#K` tag). */
export interface StageEvent {
  name: string;
  stage: string;
  action: 'assign' | 'unassign';
  version: number;
  counter: number;
  tag: string;
  commit: string;
  created: string;
  message: string;
}

/** One step of {@link Registry.lineage}, newest first. */
export interface LineageStep extends ResolvedVersion {
  strategy: string | null;
  datasets: Record<string, DatasetInfo>;
  metrics: Record<string, number>;
  /** The parent ref as recorded (null at the root). */
  parent: string | null;
}

/** Result of {@link Registry.checkout}. */
export interface CheckoutResult extends ResolvedVersion {
  dir: string;
  files: VersionFile[];
}

/** Options of {@link Registry.checkout}. */
export interface CheckoutOptions {
  /** Replace `destDir` if it exists and is not empty (atomically). Default false. */
  overwrite?: boolean;
}

interface TagInfo {
  parsed: ParsedTag;
  oid: string;
  commit: string;
  time: number;
  message: string;
}

interface ModelState {
  versions: Map<number, TagInfo>;
  deregistered: Set<number>;
  events: TagInfo[];
  maxCounter: number;
  /** Latest tagger time (seconds) of any tag of the model. */
  lastTime: number;
}

/** The `Mlship-Model` / `Mlship-Version` trailers of a registry commit (last paragraph only). */
function registrationTrailers(message: string): { name?: string; version?: number } {
  const last = message.trimEnd().split('\n\n').pop() ?? '';
  const name = /^Mlship-Model: (.+)$/m.exec(last)?.[1];
  const version = Number(/^Mlship-Version: (\d+)$/m.exec(last)?.[1]);
  return {
    ...(name && isValidName(name) ? { name } : {}),
    ...(Number.isSafeInteger(version) && version > 0 ? { version } : {}),
  };
}

function emptyState(): ModelState {
  return { versions: new Map(), deregistered: new Set(), events: [], maxCounter: 0, lastTime: 0 };
}

const REGISTRY_DIR = '.mlship';
const MODELS_DIR = 'models';
const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * A model registry in a git repository. Get one with {@link openRegistry}.
 *
 * Versions are commits on a dedicated branch (`refs/heads/mlship` by default), each holding the
 * model directory at `models/<name>/`; GTO tags name them (`name@vN.0.0`) and assign stages
 * (`name#stage#K`). The user's own branches, index and working tree are never touched.
 *
 * @example
 * ```ts
 * const reg = await openRegistry({ dir: '/srv/models' });
 * const { version } = await reg.register('cnn', './out/cnn', { message: 'baseline' });
 * await reg.assign(`cnn@v${version}`, 'production');
 * await reg.checkout('cnn#production', './serve/cnn');
 * ```
 */
export class Registry {
  /** @internal */
  readonly fsa: FsAdapter;
  /** @internal */
  readonly cache: object = {};
  private readonly tagObjects = new Map<
    string,
    { type: string; commit: string; time: number; message: string }
  >();
  private readonly lock: FileLock;
  private readonly author: Identity;
  private readonly clock: () => Date;
  /** The branch ref holding the registry's commits, e.g. `refs/heads/mlship`. */
  readonly branchRef: string;

  /** @internal Use {@link openRegistry}. */
  constructor(
    /** The repository directory given to openRegistry. */
    readonly dir: string,
    /** The git directory. */
    readonly gitdir: string,
    options: OpenRegistryOptions,
  ) {
    this.fsa = new FsAdapter(options.fs ?? defaultFs);
    this.author = options.author ?? { name: 'mlship', email: 'mlship@localhost' };
    this.clock = options.clock ?? (() => new Date());
    this.branchRef = `refs/heads/${options.branch ?? 'mlship'}`;
    this.lock = new FileLock(this.fsa, `${gitdir}/mlship.lock`, options.lock);
  }

  /** @internal isomorphic-git's common arguments. */
  get gitArgs(): { fs: RegistryFs; gitdir: string; cache: object } {
    return { fs: this.fsa.fs, gitdir: this.gitdir, cache: this.cache };
  }

  private get tmpDir(): string {
    return `${this.gitdir}/mlship-tmp`;
  }

  // ---------------------------------------------------------------- refs

  /** @internal */
  async readRef(ref: string): Promise<string | undefined> {
    try {
      return await git.resolveRef({ fs: this.fsa.fs, gitdir: this.gitdir, ref });
    } catch (e) {
      if ((e as { code?: string }).code === 'NotFoundError') return undefined;
      throw e;
    }
  }

  /** @internal Writes a ref through a temp file + rename: a kill never leaves it torn. */
  async writeRef(ref: string, oid: string): Promise<void> {
    const path = `${this.gitdir}/${ref}`;
    await this.fsa.mkdirp(path.slice(0, path.lastIndexOf('/')));
    await this.fsa.writeAtomic(path, `${oid}\n`, this.tmpDir, 'ref_');
  }

  /** @internal Runs fn under the registry write lock. */
  withLock<T>(fn: () => Promise<T>): Promise<T> {
    return this.lock.with(fn);
  }

  // ---------------------------------------------------------------- state

  /**
   * Every tag name -> object id, read in one pass (packed-refs once, then loose refs, which win):
   * resolving tags one by one re-reads packed-refs for each.
   */
  private async tagRefs(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const packed = await this.fsa.readText(`${this.gitdir}/packed-refs`);
    for (const line of packed?.split('\n') ?? []) {
      const m = /^([0-9a-f]{40}) refs\/tags\/(.+)$/.exec(line);
      if (m) out.set(m[2]!, m[1]!);
    }
    const walk = async (dir: string, prefix: string): Promise<void> => {
      for (const entry of await this.fsa.readdir(dir)) {
        const path = `${dir}/${entry}`;
        if (await this.fsa.isDirectory(path)) await walk(path, `${prefix}${entry}/`);
        else {
          const text = (await this.fsa.readText(path))?.trim() ?? '';
          const oid = /^[0-9a-f]{40}$/.test(text)
            ? text
            : await this.readRef(`refs/tags/${prefix}${entry}`);
          if (oid) out.set(`${prefix}${entry}`, oid);
        }
      }
    };
    await walk(`${this.gitdir}/refs/tags`, '');
    return out;
  }

  private async scan(only?: string): Promise<Map<string, ModelState>> {
    const refs = await this.tagRefs();
    const out = new Map<string, ModelState>();
    for (const [t, oid] of refs) {
      const parsed = parseTag(t);
      if (!parsed || (only !== undefined && parsed.name !== only)) continue;
      let info: TagInfo;
      try {
        let obj = this.tagObjects.get(oid);
        if (!obj) {
          const { tag } = await git.readTag({ ...this.gitArgs, oid });
          obj = {
            type: tag.type,
            commit: tag.object,
            time: tag.tagger.timestamp,
            message: tag.message,
          };
          this.tagObjects.set(oid, obj); // objects are immutable: safe to keep
        }
        if (obj.type !== 'commit') continue;
        info = { parsed, oid, commit: obj.commit, time: obj.time, message: obj.message };
      } catch {
        continue; // lightweight or unreadable tag: not one of ours
      }
      let m = out.get(parsed.name);
      if (!m) {
        m = emptyState();
        out.set(parsed.name, m);
      }
      m.lastTime = Math.max(m.lastTime, info.time);
      if (parsed.kind === 'version') m.versions.set(parsed.version, info);
      else {
        m.maxCounter = Math.max(m.maxCounter, parsed.counter);
        if (parsed.kind === 'deregister') m.deregistered.add(parsed.version);
        else m.events.push(info);
      }
    }
    for (const m of out.values()) {
      m.events.sort(
        (a, b) =>
          (a.parsed as { counter: number }).counter - (b.parsed as { counter: number }).counter,
      );
    }
    return out;
  }

  private async modelState(name: string): Promise<ModelState> {
    return (await this.scan(name)).get(name) ?? emptyState();
  }

  /**
   * The time to stamp the model's next tag with: the clock, but at least one second after the
   * model's latest tag. git times have one-second resolution and GTO orders a model's events by
   * tag time, so a burst of operations within a second must still come out in order.
   */
  private stamp(m: ModelState): Date {
    const seconds = Math.max(Math.floor(this.clock().getTime() / 1000), m.lastTime + 1);
    m.lastTime = seconds;
    return new Date(seconds * 1000);
  }

  private versionOfCommit(m: ModelState, commit: string): number | undefined {
    for (const [v, info] of m.versions) if (info.commit === commit) return v;
    return undefined;
  }

  private currentStages(m: ModelState): Map<string, number> {
    const stages = new Map<string, number>();
    for (const e of m.events) {
      const p = e.parsed as { kind: 'assign' | 'unassign'; stage: string };
      if (p.kind === 'unassign') stages.delete(p.stage);
      else {
        const v = this.versionOfCommit(m, e.commit);
        if (v !== undefined) stages.set(p.stage, v);
      }
    }
    return stages;
  }

  private resolveIn(name: string, m: ModelState, ref: string): ResolvedVersion {
    const r = parseVersionRef(ref);
    const found = (version: number | undefined, what: string): ResolvedVersion => {
      const info = version === undefined ? undefined : m.versions.get(version);
      if (version === undefined || !info) {
        throw new RegistryError(
          m.versions.size === 0 ? 'MODEL_NOT_FOUND' : 'VERSION_NOT_FOUND',
          m.versions.size === 0
            ? `Model ${JSON.stringify(name)} has no registered versions (looked up ${JSON.stringify(ref)})`
            : `${what} not found: ${JSON.stringify(ref)} (versions: ${[...m.versions.keys()].sort((a, b) => a - b).join(', ')})`,
          { data: { ref } },
        );
      }
      return { name, version, tag: versionTag(name, version), commit: info.commit };
    };
    switch (r.kind) {
      case 'version':
        return found(r.version, `Version ${r.version} of ${name}`);
      case 'latest': {
        const live = [...m.versions.keys()].filter((v) => !m.deregistered.has(v));
        return found(live.length ? Math.max(...live) : undefined, `A live version of ${name}`);
      }
      case 'stage': {
        const v = this.currentStages(m).get(r.stage);
        if (v === undefined && m.versions.size > 0) {
          throw new RegistryError(
            'STAGE_NOT_ASSIGNED',
            `Stage ${JSON.stringify(r.stage)} of ${name} is not assigned to any version (ref ${JSON.stringify(ref)})`,
            {
              data: { ref },
            },
          );
        }
        return found(v, `Stage ${r.stage} of ${name}`);
      }
      case 'assignment': {
        const e = m.events.find(
          (x) =>
            (x.parsed as { counter: number }).counter === r.counter &&
            (x.parsed as { stage: string }).stage === r.stage,
        );
        return found(e ? this.versionOfCommit(m, e.commit) : undefined, `Assignment ${ref}`);
      }
    }
  }

  /**
   * Resolves a reference to a version and its commit: `name@v3`, `name@v3.0.0`, `name@latest`,
   * `name`, `name#production` (current assignment) or `name#production#5` (a past assignment).
   *
   * @param ref - the reference
   * @returns the version
   * @throws RegistryError `INVALID_REF`, `MODEL_NOT_FOUND`, `VERSION_NOT_FOUND`, `STAGE_NOT_ASSIGNED`
   * @example
   * ```ts
   * const { version, commit } = await reg.resolve('cnn#production');
   * ```
   */
  async resolve(ref: string): Promise<ResolvedVersion> {
    const r = parseVersionRef(ref);
    return this.resolveIn(r.name, await this.modelState(r.name), ref);
  }

  // ---------------------------------------------------------------- trees

  private async readRecordAt(commit: string, name: string): Promise<VersionRecord | undefined> {
    try {
      const { blob } = await git.readBlob({
        ...this.gitArgs,
        oid: commit,
        filepath: `${REGISTRY_DIR}/${name}.json`,
      });
      return JSON.parse(dec.decode(blob)) as VersionRecord;
    } catch {
      return undefined;
    }
  }

  private async record(v: ResolvedVersion): Promise<VersionRecord> {
    const rec = await this.readRecordAt(v.commit, v.name);
    if (!rec || rec.version !== v.version) {
      throw new RegistryError(
        'INTEGRITY_ERROR',
        `Commit ${v.commit} of ${v.tag} has no registry record ${REGISTRY_DIR}/${v.name}.json for version ${v.version}`,
        {
          data: { ref: v.tag },
        },
      );
    }
    return rec;
  }

  private async treeEntries(oid: string | undefined, filepath?: string): Promise<TreeEntry[]> {
    if (!oid) return [];
    try {
      const { tree } = await git.readTree({
        ...this.gitArgs,
        oid,
        ...(filepath ? { filepath } : {}),
      });
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

  private async writeDirTree(
    w: ObjectWriter,
    files: { path: string; oid: string }[],
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
    for (const [d, fs] of sub)
      here.push({ mode: '40000', name: d, oid: await this.writeDirTree(w, fs) });
    return w.tree(here);
  }

  private replaceEntry(entries: TreeEntry[], entry: TreeEntry): TreeEntry[] {
    return [...entries.filter((e) => e.name !== entry.name), entry];
  }

  // ---------------------------------------------------------------- register

  /**
   * Validates a model directory and registers it as the next version of `name`: one commit on the
   * registry branch plus the annotated tag `name@vN.0.0`. Blobs are written first (inert), then the
   * branch moves under the lock (the commit point), then the tag.
   *
   * @param name - model name (`[a-z0-9][a-z0-9._-]*`)
   * @param modelDir - a model directory (model.json, *.weights.bin, mlship.json)
   * @param options - metrics, params, datasets, parent, strategy, tags, message, stages
   * @returns the new version (1, 2, 3... per name, never reused)
   * @throws RegistryError `INVALID_NAME`, `NOT_A_MODEL_DIR`, `MODEL_FILE_MISSING`, `MODEL_FILE_MISMATCH`,
   *   `VERSION_NOT_FOUND` (parent), `LOCK_TIMEOUT`
   * @example
   * ```ts
   * const v = await reg.register('cnn', './out/cnn-v2', { parent: 'cnn@v1', strategy: 'freeze' });
   * v.tag; // 'cnn@v2.0.0'
   * ```
   */
  async register(
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
    const loaded = await loadModelDir(this.fsa, modelDir);
    const w = new ObjectWriter(this.fsa, this.gitdir, this.cache);
    const fileOids: { path: string; oid: string }[] = [];
    for (const f of loaded.files) fileOids.push({ path: f.path, oid: await w.blob(f.data) });
    const modelTree = await this.writeDirTree(w, fileOids);
    const meta = loaded.meta;
    const files = filesOf(meta, modelDir);
    files['mlship.json'] = {
      sha256: loaded.files.find((f) => f.path === 'mlship.json')!.sha256,
      bytes: loaded.files.find((f) => f.path === 'mlship.json')!.data.length,
    };

    const result = await this.withLock(async () => {
      await this.repairLocked();
      // In a fresh `git clone` the registry branch exists only as origin's remote-tracking ref:
      // build on it rather than starting a second, unrelated history.
      const localTip = await this.readRef(this.branchRef);
      const tip =
        localTip ??
        (await this.readRef(this.branchRef.replace(/^refs\/heads\//, 'refs/remotes/origin/')));
      const state = await this.scan();
      const m = state.get(name) ?? emptyState();
      const tipRecord = tip ? await this.readRecordAt(tip, name) : undefined;
      const version =
        Math.max(0, tipRecord?.version ?? 0, ...m.versions.keys(), ...m.deregistered) + 1;
      const tag = versionTag(name, version);

      let parent: string | null = null;
      const parentIn = options.parent !== undefined ? options.parent : meta.parent;
      if (typeof parentIn === 'string' && parentIn) {
        try {
          const pr = parseVersionRef(parentIn);
          parent = this.resolveIn(pr.name, state.get(pr.name) ?? emptyState(), parentIn).tag;
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
      const now = this.stamp(m);
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
      const recordJson = JSON.stringify(record, null, 2);
      const recordOid = await w.blob(enc.encode(`${recordJson}\n`));

      const rootEntries = await this.treeEntries(tip);
      const modelsEntries = this.replaceEntry(await this.treeEntries(tip, MODELS_DIR), {
        mode: '40000',
        name,
        oid: modelTree,
      });
      const regEntries = this.replaceEntry(await this.treeEntries(tip, REGISTRY_DIR), {
        mode: '100644',
        name: `${name}.json`,
        oid: recordOid,
      });
      const dvcYaml = `# Written by @mlship/registry so GTO can show artifact paths and types.\nartifacts:\n${modelsEntries
        .map((e) => e.name)
        .sort()
        .map((n) => `  ${n}:\n    type: model\n    path: ${MODELS_DIR}/${n}\n`)
        .join('')}`;
      let root = this.replaceEntry(rootEntries, {
        mode: '40000',
        name: MODELS_DIR,
        oid: await w.tree(modelsEntries),
      });
      root = this.replaceEntry(root, {
        mode: '40000',
        name: REGISTRY_DIR,
        oid: await w.tree(regEntries),
      });
      root = this.replaceEntry(root, {
        mode: '100644',
        name: 'dvc.yaml',
        oid: await w.blob(enc.encode(dvcYaml)),
      });
      const rootTree = await w.tree(root);
      const person = personLine(this.author, now);
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
      const tagOid = await this.writeVersionTagObject(w, record, commit, person);

      // Commit point: the branch moves (compare-and-swap under the lock), then the tag follows.
      if ((await this.readRef(this.branchRef)) !== localTip) {
        throw new RegistryError(
          'REF_CONFLICT',
          `${this.branchRef} moved while registering ${tag}; expected ${localTip ?? '(none)'}`,
          {
            data: { ref: this.branchRef },
          },
        );
      }
      await this.writeRef(this.branchRef, commit);
      await this.writeRef(`refs/tags/${tag}`, tagOid);
      const out: ResolvedVersion = { name, version, tag, commit };
      let counter = m.maxCounter;
      for (const stage of options.stages ?? []) {
        counter += 1;
        await this.writeStageTag(
          w,
          out,
          stage,
          counter,
          false,
          `Assigned with ${tag}`,
          this.stamp(m),
        );
      }
      return out;
    });
    return result;
  }

  private writeVersionTagObject(
    w: ObjectWriter,
    record: VersionRecord,
    commit: string,
    tagger: string,
  ): Promise<string> {
    return w.tag({
      object: commit,
      type: 'commit',
      tag: record.tag,
      tagger,
      message: `Registering artifact ${record.name} version ${semver(record.version)}\n\n${record.message ? `${record.message}\n\n` : ''}${JSON.stringify(record, null, 2)}\n`,
    });
  }

  private async writeStageTag(
    w: ObjectWriter,
    v: ResolvedVersion,
    stage: string,
    counter: number,
    unassign: boolean,
    message: string,
    now: Date,
  ): Promise<StageEvent> {
    const tag = stageTag(v.name, stage, counter, unassign);
    if (await this.readRef(`refs/tags/${tag}`)) {
      throw new RegistryError('REF_CONFLICT', `Tag ${tag} already exists`, { data: { ref: tag } });
    }
    const body = {
      format: 'mlship-registry-event/1',
      action: unassign ? 'unassign' : 'assign',
      name: v.name,
      stage,
      version: v.version,
      versionTag: v.tag,
      message,
    };
    const first = unassign
      ? `Unassigning stage ${stage} from artifact ${v.name} version ${semver(v.version)}`
      : `Assigning stage ${stage} to artifact ${v.name} version ${semver(v.version)}`;
    const oid = await w.tag({
      object: v.commit,
      type: 'commit',
      tag,
      tagger: personLine(this.author, now),
      message: `${first}\n\n${message ? `${message}\n\n` : ''}${JSON.stringify(body, null, 2)}\n`,
    });
    await this.writeRef(`refs/tags/${tag}`, oid);
    return {
      name: v.name,
      stage,
      action: unassign ? 'unassign' : 'assign',
      version: v.version,
      counter,
      tag,
      commit: v.commit,
      created: new Date(Math.floor(now.getTime() / 1000) * 1000).toISOString(),
      message,
    };
  }

  /**
   * @internal Completes a registration interrupted between the branch update (commit point) and
   * its tag: walks back from the branch tip while version tags are missing and recreates them
   * (byte-identical: same record, same time). Also clears temp files of dead writers. Lock held.
   */
  async repairLocked(): Promise<string[]> {
    const repaired: string[] = [];
    let oid = await this.readRef(this.branchRef);
    const w = new ObjectWriter(this.fsa, this.gitdir, this.cache);
    for (let i = 0; oid && i < 50; i++) {
      const { commit } = await git.readCommit({ ...this.gitArgs, oid });
      const { name, version } = registrationTrailers(commit.message);
      if (!name || !version) break;
      const tag = versionTag(name, version);
      if (await this.readRef(`refs/tags/${tag}`)) break;
      const record = await this.readRecordAt(oid, name);
      if (!record) break;
      const tagOid = await this.writeVersionTagObject(
        w,
        record,
        oid,
        `${commit.committer.name} <${commit.committer.email}> ${commit.committer.timestamp} +0000`,
      );
      await this.writeRef(`refs/tags/${tag}`, tagOid);
      repaired.push(tag);
      oid = commit.parent[0];
    }
    for (const f of await this.fsa.readdir(this.tmpDir))
      await this.fsa.unlink(`${this.tmpDir}/${f}`);
    return repaired;
  }

  /** @internal Whether the branch tip lacks its version tag (read-only check, no lock). */
  async needsRepair(): Promise<boolean> {
    const oid = await this.readRef(this.branchRef);
    if (!oid) return false;
    const { commit } = await git.readCommit({ ...this.gitArgs, oid });
    const { name, version } = registrationTrailers(commit.message);
    if (!name || !version) return false;
    return (await this.readRef(`refs/tags/${versionTag(name, version)}`)) === undefined;
  }

  /**
   * Completes an interrupted registration, if any (also done by openRegistry and before every write).
   *
   * @returns the version tags it recreated
   * @throws RegistryError `LOCK_TIMEOUT`
   * @example
   * ```ts
   * const fixed = await reg.repair(); // e.g. ['cnn@v4.0.0'] after a crash
   * ```
   */
  repair(): Promise<string[]> {
    return this.withLock(() => this.repairLocked());
  }

  // ---------------------------------------------------------------- stages

  /**
   * Assigns (or moves) a stage / alias to a version with a new GTO tag `name#stage#K`; earlier
   * assignments stay as tags, so the history is kept.
   *
   * @param ref - the version, e.g. `cnn@v2` or `cnn#staging` (promotes what staging points at)
   * @param stage - the stage name, e.g. `production`
   * @param options - `message` for the tag
   * @returns the assignment event
   * @throws RegistryError `INVALID_NAME`, `VERSION_NOT_FOUND`, `MODEL_NOT_FOUND`, `LOCK_TIMEOUT`
   * @example
   * ```ts
   * await reg.assign('cnn@v2', 'production', { message: 'beats v1 on the shifted holdout' });
   * ```
   */
  async assign(
    ref: string,
    stage: string,
    options: { message?: string } = {},
  ): Promise<StageEvent> {
    assertName(stage, 'stage');
    const name = parseVersionRef(ref).name;
    return this.withLock(async () => {
      const m = await this.modelState(name);
      const v = this.resolveIn(name, m, ref);
      const w = new ObjectWriter(this.fsa, this.gitdir, this.cache);
      return this.writeStageTag(
        w,
        v,
        stage,
        m.maxCounter + 1,
        false,
        options.message ?? '',
        this.stamp(m),
      );
    });
  }

  /**
   * Removes a stage from the version it points at, GTO-style: a new tag `name#stage!#K` (the
   * assignment history stays).
   *
   * @param name - model name
   * @param stage - stage name
   * @param options - `message` for the tag
   * @returns the unassignment event
   * @throws RegistryError `STAGE_NOT_ASSIGNED` when the stage points nowhere, `INVALID_NAME`
   * @example
   * ```ts
   * await reg.unassign('cnn', 'staging');
   * ```
   */
  async unassign(
    name: string,
    stage: string,
    options: { message?: string } = {},
  ): Promise<StageEvent> {
    assertName(name);
    assertName(stage, 'stage');
    return this.withLock(async () => {
      const m = await this.modelState(name);
      const v = this.resolveIn(name, m, `${name}#${stage}`);
      const w = new ObjectWriter(this.fsa, this.gitdir, this.cache);
      return this.writeStageTag(
        w,
        v,
        stage,
        m.maxCounter + 1,
        true,
        options.message ?? '',
        this.stamp(m),
      );
    });
  }

  /**
   * Retires a version GTO-style with a deregistration tag `name@vN.0.0!#K`: it stays readable by
   * explicit ref but is no longer `latest`; its number is never reused.
   *
   * @param ref - the version, e.g. `cnn@v3`
   * @param options - `message` for the tag
   * @returns the version and the deregistration tag
   * @throws RegistryError `VERSION_NOT_FOUND`
   * @example
   * ```ts
   * await reg.deregister('cnn@v3', { message: 'leaked test data' });
   * ```
   */
  async deregister(
    ref: string,
    options: { message?: string } = {},
  ): Promise<ResolvedVersion & { deregistrationTag: string }> {
    const name = parseVersionRef(ref).name;
    return this.withLock(async () => {
      const m = await this.modelState(name);
      const v = this.resolveIn(name, m, ref);
      const tag = deregisterTag(name, v.version, m.maxCounter + 1);
      const w = new ObjectWriter(this.fsa, this.gitdir, this.cache);
      const oid = await w.tag({
        object: v.commit,
        type: 'commit',
        tag,
        tagger: personLine(this.author, this.stamp(m)),
        message: `Deregistering artifact ${name} version ${semver(v.version)}\n\n${options.message ?? ''}\n`,
      });
      await this.writeRef(`refs/tags/${tag}`, oid);
      return { ...v, deregistrationTag: tag };
    });
  }

  /**
   * The stages of a model and the version each points at now.
   *
   * @param name - model name
   * @returns stage -> version
   * @throws RegistryError `INVALID_NAME`
   * @example
   * ```ts
   * (await reg.stages('cnn')).production?.version; // 2
   * ```
   */
  async stages(name: string): Promise<Record<string, ResolvedVersion>> {
    assertName(name);
    const m = await this.modelState(name);
    const out: Record<string, ResolvedVersion> = {};
    for (const [stage, v] of [...this.currentStages(m)].sort(([a], [b]) => (a < b ? -1 : 1))) {
      out[stage] = {
        name,
        version: v,
        tag: versionTag(name, v),
        commit: m.versions.get(v)!.commit,
      };
    }
    return out;
  }

  /**
   * Every assignment and unassignment of a model's stages, oldest first.
   *
   * @param name - model name
   * @param stage - only this stage
   * @returns the events
   * @throws RegistryError `INVALID_NAME`
   * @example
   * ```ts
   * for (const e of await reg.stageHistory('cnn', 'production')) console.log(e.counter, e.action, e.version);
   * ```
   */
  async stageHistory(name: string, stage?: string): Promise<StageEvent[]> {
    assertName(name);
    const m = await this.modelState(name);
    const out: StageEvent[] = [];
    for (const e of m.events) {
      const p = e.parsed as { kind: 'assign' | 'unassign'; stage: string; counter: number };
      if (stage !== undefined && p.stage !== stage) continue;
      const version = this.versionOfCommit(m, e.commit);
      if (version === undefined) continue;
      const msg = e.message.split('\n\n')[1] ?? '';
      out.push({
        name,
        stage: p.stage,
        action: p.kind,
        version,
        counter: p.counter,
        tag: e.parsed.tag,
        commit: e.commit,
        created: new Date(e.time * 1000).toISOString(),
        message: msg.startsWith('{') ? '' : msg,
      });
    }
    return out;
  }

  // ---------------------------------------------------------------- read

  /**
   * Lists the models of the registry.
   *
   * @returns one summary per model name, sorted by name
   * @throws the file system's error when the repository's tags cannot be read
   * @example
   * ```ts
   * for (const m of await reg.models()) console.log(m.name, m.latest, m.stages);
   * ```
   */
  async models(): Promise<ModelSummary[]> {
    const state = await this.scan();
    return [...state.entries()]
      .filter(([, m]) => m.versions.size > 0)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([name, m]) => {
        const live = [...m.versions.keys()].filter((v) => !m.deregistered.has(v));
        return {
          name,
          latest: live.length ? Math.max(...live) : null,
          versions: m.versions.size,
          stages: Object.fromEntries(this.currentStages(m)),
        };
      });
  }

  /**
   * Lists the versions of a model with their metrics and stages, oldest first.
   *
   * @param name - model name
   * @returns the versions (empty when the model has none)
   * @throws RegistryError `INVALID_NAME`
   * @example
   * ```ts
   * const rows = await reg.versions('cnn'); // [{ version: 1, metrics: { accuracy: 0.97 }, stages: [] }, ...]
   * ```
   */
  async versions(name: string): Promise<VersionSummary[]> {
    assertName(name);
    const m = await this.modelState(name);
    const stages = this.currentStages(m);
    const out: VersionSummary[] = [];
    for (const [version, info] of [...m.versions].sort(([a], [b]) => a - b)) {
      const rec = await this.readRecordAt(info.commit, name);
      out.push({
        name,
        version,
        tag: versionTag(name, version),
        commit: info.commit,
        created: rec?.created ?? new Date(info.time * 1000).toISOString(),
        message: rec?.message ?? '',
        metrics: rec?.metrics ?? {},
        stages: [...stages]
          .filter(([, v]) => v === version)
          .map(([s]) => s)
          .sort(),
        deregistered: m.deregistered.has(version),
      });
    }
    return out;
  }

  /**
   * Everything about one version: record (metrics, params, datasets, lineage), its mlship.json,
   * its files with sizes and hashes, its parent and current stages.
   *
   * @param ref - a version reference (see {@link Registry.resolve})
   * @returns the details
   * @throws RegistryError as {@link Registry.resolve}, `INTEGRITY_ERROR` when the record is missing
   * @example
   * ```ts
   * const d = await reg.show('cnn@latest');
   * d.files.map((f) => f.path); // ['conv2d.weights.bin', ..., 'mlship.json', 'model.json']
   * ```
   */
  async show(ref: string): Promise<VersionDetails> {
    const name = parseVersionRef(ref).name;
    const m = await this.modelState(name);
    const v = this.resolveIn(name, m, ref);
    const record = await this.record(v);
    const entries = await this.listTreeFiles(v.commit, `${MODELS_DIR}/${name}`);
    let metadata: Record<string, unknown> = {};
    const metaEntry = entries.find((e) => e.path === 'mlship.json');
    if (metaEntry)
      metadata = JSON.parse(
        dec.decode((await git.readBlob({ ...this.gitArgs, oid: metaEntry.oid })).blob),
      ) as Record<string, unknown>;
    let parent: ResolvedVersion | null = null;
    if (record.parent) {
      try {
        parent = await this.resolve(record.parent);
      } catch {
        parent = null;
      }
    }
    const stages = this.currentStages(m);
    return {
      ...v,
      created: record.created,
      message: record.message,
      metrics: record.metrics,
      stages: [...stages]
        .filter(([, x]) => x === v.version)
        .map(([s]) => s)
        .sort(),
      deregistered: m.deregistered.has(v.version),
      record,
      metadata,
      files: entries.map((e) => ({
        path: e.path,
        oid: e.oid,
        sha256: record.files[e.path]?.sha256 ?? '',
        bytes: record.files[e.path]?.bytes ?? -1,
      })),
      parent,
      lineage: await this.lineage(v.tag),
    };
  }

  private async listTreeFiles(
    commit: string,
    dir: string,
  ): Promise<{ path: string; oid: string }[]> {
    const out: { path: string; oid: string }[] = [];
    const walk = async (filepath: string, prefix: string): Promise<void> => {
      for (const e of await this.treeEntries(commit, filepath)) {
        if (e.mode === '40000') await walk(`${filepath}/${e.name}`, `${prefix}${e.name}/`);
        else out.push({ path: `${prefix}${e.name}`, oid: e.oid });
      }
    };
    await walk(dir, '');
    return out.sort((a, b) => (a.path < b.path ? -1 : 1));
  }

  /**
   * Walks parent links from a version back to its root.
   *
   * @param ref - a version reference
   * @returns the steps, the given version first, each with strategy, datasets and metrics
   * @throws RegistryError as {@link Registry.resolve}
   * @example
   * ```ts
   * (await reg.lineage('cnn@v3')).map((s) => `${s.tag} (${s.strategy})`); // ['cnn@v3.0.0 (freeze)', 'cnn@v1.0.0 (null)']
   * ```
   */
  async lineage(ref: string): Promise<LineageStep[]> {
    const out: LineageStep[] = [];
    const seen = new Set<string>();
    let next: string | null = ref;
    while (next) {
      let v: ResolvedVersion;
      try {
        v = await this.resolve(next);
      } catch (e) {
        if (out.length === 0 || !isRegistryError(e)) throw e;
        break; // parent recorded but not in this registry: the walk ends there
      }
      if (seen.has(v.tag)) break;
      seen.add(v.tag);
      const rec = await this.record(v);
      out.push({
        ...v,
        strategy: rec.strategy,
        datasets: rec.datasets,
        metrics: rec.metrics,
        parent: rec.parent,
      });
      next = rec.parent;
    }
    return out;
  }

  /** @internal Reads and verifies every file of a version (git sha1 and mlship.json sha256). */
  async readVerifiedFiles(
    v: ResolvedVersion,
  ): Promise<{ path: string; data: Uint8Array; oid: string; sha256: string }[]> {
    const dir = `${MODELS_DIR}/${v.name}`;
    const integrity = (msg: string, cause?: unknown, path?: string): RegistryError =>
      new RegistryError('INTEGRITY_ERROR', `${v.tag} (commit ${v.commit}): ${msg}`, {
        cause,
        data: { ref: v.tag, ...(path ? { path } : {}) },
      });
    let entries: { path: string; oid: string }[];
    try {
      entries = await this.listTreeFiles(v.commit, dir);
    } catch (e) {
      throw integrity(`cannot read tree ${dir}`, e);
    }
    const files: { path: string; data: Uint8Array; oid: string; sha256: string }[] = [];
    for (const e of entries) {
      let data: Uint8Array;
      try {
        data = (await git.readBlob({ ...this.gitArgs, oid: e.oid })).blob;
      } catch (err) {
        throw integrity(`blob ${e.oid} of ${e.path} is unreadable`, err, e.path);
      }
      if (gitObjectId('blob', data) !== e.oid)
        throw integrity(
          `blob ${e.oid} of ${e.path} does not hash to its id (tampered object)`,
          undefined,
          e.path,
        );
      files.push({ path: e.path, data, oid: e.oid, sha256: sha256Hex(data) });
    }
    const metaFile = files.find((f) => f.path === 'mlship.json');
    if (!metaFile) throw integrity(`${dir}/mlship.json is missing`);
    let listed: Record<string, ModelFileInfo>;
    try {
      listed = filesOf(JSON.parse(dec.decode(metaFile.data)) as Record<string, unknown>, dir);
    } catch (err) {
      throw integrity(`${dir}/mlship.json is invalid`, err, 'mlship.json');
    }
    const byPath = new Map(files.map((f) => [f.path, f]));
    for (const [p, info] of Object.entries(listed)) {
      const f = byPath.get(p);
      if (!f) throw integrity(`${p} is listed in mlship.json but absent`, undefined, p);
      if (f.sha256 !== info.sha256 || f.data.length !== info.bytes) {
        throw integrity(
          `${p} has sha256 ${f.sha256} (${f.data.length} bytes), expected ${info.sha256} (${info.bytes} bytes)`,
          undefined,
          p,
        );
      }
    }
    for (const f of files) {
      if (f.path !== 'mlship.json' && !listed[f.path])
        throw integrity(`${f.path} is not listed in mlship.json`, undefined, f.path);
      if (!isSafeRelativePath(f.path))
        throw integrity(`unsafe path ${JSON.stringify(f.path)}`, undefined, f.path);
    }
    return files;
  }

  /**
   * Writes a verified copy of a version's model directory to `destDir`: every blob is checked
   * against its git id and every file against the sha256 in mlship.json before anything is
   * written; the copy is assembled in a temporary sibling and renamed into place, so on any
   * failure nothing is left at `destDir`.
   *
   * @param ref - a version reference
   * @param destDir - where the model directory goes; must not exist or be empty unless `overwrite`
   * @param options - `overwrite`
   * @returns the version, the directory and its files
   * @throws RegistryError `INTEGRITY_ERROR` (tampered or missing object), `DEST_EXISTS`, and as {@link Registry.resolve}
   * @example
   * ```ts
   * await reg.checkout('cnn#production', '/srv/serve/cnn', { overwrite: true });
   * ```
   */
  async checkout(
    ref: string,
    destDir: string,
    options: CheckoutOptions = {},
  ): Promise<CheckoutResult> {
    const v = await this.resolve(ref);
    const files = await this.readVerifiedFiles(v);
    const dest = destDir.replace(/\/+$/, '');
    const destExists = await this.fsa.exists(dest);
    if (destExists) {
      const empty =
        (await this.fsa.isDirectory(dest)) && (await this.fsa.readdir(dest)).length === 0;
      if (!empty && !options.overwrite) {
        throw new RegistryError(
          'DEST_EXISTS',
          `Checkout destination ${dest} exists and is not empty (pass { overwrite: true } to replace it)`,
          {
            data: { path: dest },
          },
        );
      }
    }
    const parentDir = dest.includes('/') ? dest.slice(0, dest.lastIndexOf('/')) || '/' : '.';
    const base = dest.slice(dest.lastIndexOf('/') + 1);
    const suffix = `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
    const tmp = `${parentDir}/.${base}.mlship-tmp-${suffix}`;
    await this.fsa.mkdirp(parentDir);
    try {
      await this.fsa.mkdirp(tmp);
      for (const f of files) {
        const p = `${tmp}/${f.path}`;
        if (f.path.includes('/')) await this.fsa.mkdirp(p.slice(0, p.lastIndexOf('/')));
        await this.fsa.fs.promises.writeFile(p, f.data);
      }
      if (destExists) {
        const old = `${parentDir}/.${base}.mlship-old-${suffix}`;
        await this.fsa.rename(dest, old);
        await this.fsa.rename(tmp, dest);
        await this.fsa.rmrf(old);
      } else {
        await this.fsa.rename(tmp, dest);
      }
    } catch (e) {
      await this.fsa.rmrf(tmp);
      throw e;
    }
    return {
      ...v,
      dir: dest,
      files: files.map((f) => ({
        path: f.path,
        oid: f.oid,
        sha256: f.sha256,
        bytes: f.data.length,
      })),
    };
  }

  /**
   * Compares two versions: metrics (with change), params, datasets and files (which layer files
   * changed). Render it for a pull request with {@link formatDiffMarkdown}.
   *
   * @param refA - the base, e.g. `cnn#production`
   * @param refB - the candidate, e.g. `cnn@latest`
   * @returns the comparison, JSON-ready
   * @throws RegistryError as {@link Registry.resolve}
   * @example
   * ```ts
   * const d = await reg.diff('cnn@v1', 'cnn@v2');
   * d.files.filter((f) => f.status === 'modified').map((f) => f.path); // ['dense.weights.bin', ...]
   * ```
   */
  async diff(refA: string, refB: string): Promise<RegistryDiff> {
    const a = await this.resolve(refA);
    const b = await this.resolve(refB);
    return diffRecords(a, await this.record(a), b, await this.record(b));
  }

  /**
   * Pushes the registry branch and every registry tag (versions, stage history, deregistrations)
   * to a git remote over smart HTTP. Never forces: a remote that moved on is `REMOTE_REJECTED`.
   *
   * @param options - `url` or `remote`, optional `auth` / `headers`
   * @returns what was pushed
   * @throws RegistryError `REMOTE_AUTH_FAILED`, `REMOTE_REJECTED`, `REMOTE_FAILED`
   * @example
   * ```ts
   * await reg.push({ url: 'https://git.example.com/models.git', auth: { username: 'ci', password: token } });
   * ```
   */
  push(options: RemoteOptions = {}): Promise<PushResult> {
    return pushRegistry(this, options);
  }

  /**
   * Fetches the registry branch and tags from a git remote and fast-forwards the local registry
   * branch (under the lock). Local versions the remote lacks are kept (`ahead`); a registry that
   * diverged is `DIVERGED`, because version numbers would collide.
   *
   * @param options - `url` or `remote`, optional `auth` / `headers`
   * @returns what changed locally
   * @throws RegistryError `DIVERGED`, `REMOTE_AUTH_FAILED`, `REMOTE_FAILED`
   * @example
   * ```ts
   * const { branch, newTags } = await reg.pull({ url: 'https://git.example.com/models.git' });
   * ```
   */
  pull(options: RemoteOptions = {}): Promise<PullResult> {
    return pullRegistry(this, options);
  }
}

async function findGitdir(fsa: FsAdapter, dir: string): Promise<string | undefined> {
  const dotGit = `${dir}/.git`;
  if (await fsa.isDirectory(dotGit)) return dotGit;
  const pointer = await fsa.readText(dotGit);
  if (pointer !== undefined) {
    const m = /^gitdir:\s*(.+)\s*$/m.exec(pointer);
    if (m?.[1]) return m[1].startsWith('/') ? m[1] : `${dir}/${m[1]}`;
  }
  if (
    (await fsa.exists(`${dir}/HEAD`)) &&
    (await fsa.isDirectory(`${dir}/objects`)) &&
    (await fsa.isDirectory(`${dir}/refs`))
  )
    return dir;
  return undefined;
}

/**
 * Opens (or creates) a model registry in a git repository — a working tree or a bare repository —
 * and completes any registration a killed process left half-done.
 *
 * @param options - `dir` and optional `gitdir`, `create`, `bare`, `fs`, `author`, `clock`, `branch`, `lock`
 * @returns the registry
 * @throws RegistryError `NOT_A_REPOSITORY` when `dir` holds no repository and `create` is false,
 *   `INVALID_OPTION` for a bad branch name
 * @example
 * ```ts
 * const reg = await openRegistry({ dir: process.cwd(), author: { name: 'ci', email: 'ci@example.com' } });
 * ```
 */
export async function openRegistry(options: OpenRegistryOptions): Promise<Registry> {
  if (!options || typeof options.dir !== 'string' || options.dir === '') {
    throw new RegistryError(
      'INVALID_OPTION',
      `openRegistry needs { dir: string }, got ${JSON.stringify(options?.dir)}`,
    );
  }
  if (options.branch !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(options.branch)) {
    throw new RegistryError(
      'INVALID_OPTION',
      `Invalid registry branch ${JSON.stringify(options.branch)}: expected a git branch name`,
    );
  }
  const fsa = new FsAdapter(options.fs ?? defaultFs);
  const dir = options.dir.replace(/\/+$/, '') || '/';
  let gitdir = options.gitdir ?? (await findGitdir(fsa, dir));
  if (!gitdir) {
    if (options.create === false) {
      throw new RegistryError(
        'NOT_A_REPOSITORY',
        `${dir} is not a git repository (no .git directory, not a bare repository); pass create: true to create one`,
        {
          data: { path: dir },
        },
      );
    }
    await fsa.mkdirp(dir);
    // A bare repository the registry creates is its own: HEAD names the registry branch, so
    // clones check it out and remotes have a born HEAD. A working tree keeps `main` (its index
    // and files are the user's, and would look deleted if HEAD pointed at the registry branch).
    const bare = options.bare ?? false;
    await git.init({
      fs: fsa.fs,
      dir,
      bare,
      defaultBranch: bare ? (options.branch ?? 'mlship') : 'main',
    });
    gitdir = options.bare ? dir : `${dir}/.git`;
  }
  const reg = new Registry(dir, gitdir, options);
  // Only when a registration was cut off after its commit point: take the lock (waiting for a live
  // writer or breaking a dead one's lock) and complete it. Otherwise open() writes nothing, so a
  // read-only repository (e.g. mounted into a serving container) opens fine.
  if (await reg.needsRepair()) await reg.repair();
  return reg;
}
