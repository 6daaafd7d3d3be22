import { assign, unassign } from './commands/assign';
import { checkout } from './commands/checkout';
import { deregister } from './commands/deregister';
import { diff } from './commands/diff';
import { lineage } from './commands/lineage';
import { models, stageHistory, stages, versions } from './commands/list';
import { pull } from './commands/pull';
import { push } from './commands/push';
import { register } from './commands/register';
import { repair } from './commands/repair';
import { resolve } from './commands/resolve';
import { show } from './commands/show';
import type { RegistryContext } from './context';
import type {
  CheckoutOptions,
  CheckoutResult,
  DeregisterResult,
  EventOptions,
  LineageStep,
  ModelSummary,
  PullOptions,
  PullResult,
  PushResult,
  RegisterOptions,
  RegistryDiff,
  RemoteOptions,
  ResolvedVersion,
  StageEvent,
  VersionDetails,
  VersionSummary,
} from './types';

/**
 * A model registry in a git repository. Get one with {@link openRegistry}.
 *
 * Versions are commits on a dedicated branch (`refs/heads/mlship` by default), each holding the
 * model directory at `models/<name>/`; GTO tags name them (`name@vN.0.0`) and assign stages
 * (`name#stage#K`). The user's own branches, index and working tree are never touched. Each method
 * hands the registry's context to one operation in `src/commands/`.
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
  /** @internal Use {@link openRegistry}. */
  constructor(
    /** @internal The context every operation works on. */
    readonly ctx: RegistryContext,
  ) {}

  /** The repository directory given to openRegistry. */
  get dir(): string {
    return this.ctx.dir;
  }

  /** The git directory. */
  get gitdir(): string {
    return this.ctx.gitdir;
  }

  /** The branch ref holding the registry's commits, e.g. `refs/heads/mlship`. */
  get branchRef(): string {
    return this.ctx.branchRef;
  }

  /**
   * Validates a model directory and registers it as the next version of `name`: one commit on the
   * registry branch plus the annotated tag `name@vN.0.0`. Blobs are written first (inert), then the
   * branch moves under the lock (the commit point), then the tag.
   *
   * @param name - model name, in core's grammar (`isValidName`: lowercase `[a-z0-9]` with inner `.`, `_`, `-`)
   * @param modelDir - a model directory (model.json, *.weights.bin, mlship.json)
   * @param options - metrics, params, datasets, parent, strategy, tags, message, stages
   * @returns the new version (1, 2, 3... per name, never reused)
   * @throws RegistryError `INVALID_NAME`, `INVALID_OPTION`, `NOT_A_MODEL_DIR`, `INVALID_META`,
   *   `INTEGRITY` (a file missing, changed or unlisted), `VERSION_NOT_FOUND` (parent), `LOCK_TIMEOUT`
   * @example
   * ```ts
   * const v = await reg.register('cnn', './out/cnn-v2', { parent: 'cnn@v1', strategy: 'freeze' });
   * v.tag; // 'cnn@v2.0.0'
   * ```
   */
  register(name: string, modelDir: string, options?: RegisterOptions): Promise<ResolvedVersion> {
    return register(this.ctx, name, modelDir, options);
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
  resolve(ref: string): Promise<ResolvedVersion> {
    return resolve(this.ctx, ref);
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
    return repair(this.ctx);
  }

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
  assign(ref: string, stage: string, options?: EventOptions): Promise<StageEvent> {
    return assign(this.ctx, ref, stage, options);
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
  unassign(name: string, stage: string, options?: EventOptions): Promise<StageEvent> {
    return unassign(this.ctx, name, stage, options);
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
  deregister(ref: string, options?: EventOptions): Promise<DeregisterResult> {
    return deregister(this.ctx, ref, options);
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
  stages(name: string): Promise<Record<string, ResolvedVersion>> {
    return stages(this.ctx, name);
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
  stageHistory(name: string, stage?: string): Promise<StageEvent[]> {
    return stageHistory(this.ctx, name, stage);
  }

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
  models(): Promise<ModelSummary[]> {
    return models(this.ctx);
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
  versions(name: string): Promise<VersionSummary[]> {
    return versions(this.ctx, name);
  }

  /**
   * Everything about one version: record (metrics, params, datasets, lineage), its mlship.json,
   * its files with sizes and hashes, its parent and current stages.
   *
   * @param ref - a version reference (see {@link Registry.resolve})
   * @returns the details
   * @throws RegistryError as {@link Registry.resolve}, `INTEGRITY` when the record is missing
   * @example
   * ```ts
   * const d = await reg.show('cnn@latest');
   * d.files.map((f) => f.path); // ['conv2d.weights.bin', ..., 'mlship.json', 'model.json']
   * ```
   */
  show(ref: string): Promise<VersionDetails> {
    return show(this.ctx, ref);
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
  lineage(ref: string): Promise<LineageStep[]> {
    return lineage(this.ctx, ref);
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
   * @throws RegistryError `INTEGRITY` (tampered or missing object), `DEST_EXISTS`, and as {@link Registry.resolve}
   * @example
   * ```ts
   * await reg.checkout('cnn#production', '/srv/serve/cnn', { overwrite: true });
   * ```
   */
  checkout(ref: string, destDir: string, options?: CheckoutOptions): Promise<CheckoutResult> {
    return checkout(this.ctx, ref, destDir, options);
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
  diff(refA: string, refB: string): Promise<RegistryDiff> {
    return diff(this.ctx, refA, refB);
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
  push(options?: RemoteOptions): Promise<PushResult> {
    return push(this.ctx, options);
  }

  /**
   * Fetches the registry branch and tags from a git remote and fast-forwards the local registry
   * branch (under the lock). Local versions the remote lacks are kept (`ahead`); a registry that
   * diverged is `DIVERGED`, because version numbers would collide. A transfer that fails leaves
   * the repository as it was; credentials in `url` are used, never stored; tags both sides hold
   * with different content are listed in `conflicts` (`conflicts: 'theirs'` takes the remote's
   * stage and deregistration tags).
   *
   * @param options - `url` or `remote`, optional `auth` / `headers`, `conflicts`
   * @returns what changed locally, and the conflicts
   * @throws RegistryError `DIVERGED`, `REMOTE_AUTH_FAILED`, `REMOTE_FAILED`
   * @example
   * ```ts
   * const { branch, newTags } = await reg.pull({ url: 'https://git.example.com/models.git' });
   * ```
   */
  pull(options?: PullOptions): Promise<PullResult> {
    return pull(this.ctx, options);
  }
}
