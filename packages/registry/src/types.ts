// The public record, result and option types of @mlship/registry, in one module that imports no
// operation: every operation, the facade, diff and the remote code import their types from here.
import type { HttpClient, ProgressCallback } from 'isomorphic-git';
import type { FileEntry, MlshipFs } from '@mlship/core';

/**
 * The file system the registry works on: @mlship/core's `MlshipFs`, the shape isomorphic-git
 * accepts (`{ promises: ... }`: `node:fs`, memfs, LightningFS). `rename` makes writes crash-safe
 * (objects, refs and checkouts are written to a temporary name and renamed into place); `open`
 * lets files be read in chunks and without following symlinks.
 */
export type RegistryFs = MlshipFs;

/** Author / committer / tagger identity written into commits and tags. */
export interface Identity {
  /** Display name, e.g. `mlship`. */
  name: string;
  /** E-mail, e.g. `mlship@localhost`. */
  email: string;
}

/** How the registry waits for and recovers its write lock (`<gitdir>/mlship.lock`). */
export interface LockOptions {
  /** Give up with `LOCK_TIMEOUT` after this long. Default 30000 ms. */
  timeoutMs?: number;
  /**
   * A lock from another host (whose pid cannot be checked) older than this is stale. Default
   * 120000 ms. A lock from this host is stale exactly when its pid is no longer alive.
   */
  staleMs?: number;
}

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
  /**
   * Open for reading only: no repair is attempted (so a read-only mount with a registration cut
   * off half-way opens, and every complete version reads as usual) and every write is refused
   * with `WRITE_FAILED`. Default false.
   */
  readOnly?: boolean;
}

/** One file of a model directory as mlship.json lists it: core's `FileEntry` (`sha256`, `bytes`). */
export type ModelFileInfo = FileEntry;

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

/** Options of {@link Registry.assign}, {@link Registry.unassign} and {@link Registry.deregister}. */
export interface EventOptions {
  /** A message for the tag. Default empty. */
  message?: string;
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

/** Result of {@link Registry.deregister}: the version and the GTO deregistration tag written. */
export interface DeregisterResult extends ResolvedVersion {
  /** The tag, `name@vN.0.0!#K`. */
  deregistrationTag: string;
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

/** One step of {@link Registry.lineage}, newest first. */
export interface LineageStep extends ResolvedVersion {
  strategy: string | null;
  datasets: Record<string, DatasetInfo>;
  metrics: Record<string, number>;
  /** The parent ref as recorded (null at the root). */
  parent: string | null;
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

/** One metric compared across two versions. */
export interface MetricDiff {
  name: string;
  from: number | null;
  to: number | null;
  /** `to - from` when both exist, else null. */
  change: number | null;
}

/** One parameter compared across two versions (nested params are flattened with dots). */
export interface ParamDiff {
  name: string;
  from: unknown;
  to: unknown;
  changed: boolean;
}

/** One dataset role compared across two versions. */
export interface DatasetDiff {
  role: string;
  from: DatasetInfo | null;
  to: DatasetInfo | null;
  changed: boolean;
}

/** One file of the model directory compared across two versions. */
export interface FileDiff {
  path: string;
  status: 'added' | 'removed' | 'modified' | 'unchanged';
  fromBytes: number | null;
  toBytes: number | null;
  fromSha256: string | null;
  toSha256: string | null;
}

/** Result of `Registry.diff`: JSON-ready; {@link formatDiffMarkdown} renders it for a PR comment. */
export interface RegistryDiff {
  from: ResolvedVersion;
  to: ResolvedVersion;
  metrics: MetricDiff[];
  params: ParamDiff[];
  datasets: DatasetDiff[];
  files: FileDiff[];
}

/** Options of {@link formatDiffMarkdown}. */
export interface FormatDiffOptions {
  /** Also list unchanged params and files. Default false. */
  all?: boolean;
}

/** Where and how to reach a git remote over smart HTTP. */
export interface RemoteOptions {
  /** Remote URL (`https://host/repo.git`). Default: the URL configured for `remote`. */
  url?: string;
  /**
   * Configured remote name used when `url` is not given (default `origin`). With `url`, pull
   * records the URL under this name (default `mlship`) for its remote-tracking refs.
   */
  remote?: string;
  /** HTTP basic credentials (a token goes in `password`). */
  auth?: { username: string; password?: string };
  /** Extra HTTP headers (e.g. `Authorization: Bearer ...`). */
  headers?: Record<string, string>;
  /** HTTP client as isomorphic-git takes it. Default isomorphic-git's node client. */
  http?: HttpClient;
  /** Progress of each transfer (isomorphic-git's events: phase, loaded, total). */
  onProgress?: ProgressCallback;
}

/** Result of {@link Registry.push}. */
export interface PushResult {
  /** Refs written on the remote (branch and tags). */
  pushed: string[];
  /** Registry tags the remote already had. */
  skipped: number;
}

/** Options of {@link Registry.pull}. */
export interface PullOptions extends RemoteOptions {
  /**
   * What to do with a registry tag both sides have under the same name but with different content
   * (two registries both assigned, say, `cnn#production#5`, to different versions): `'report'`
   * (default) keeps the local tag and lists the conflict in the result; `'theirs'` replaces the
   * local stage and deregistration tags by the remote's (version tags are only ever reported).
   */
  conflicts?: 'report' | 'theirs';
}

/** A registry tag that exists locally and on the remote with different content. */
export interface PullConflict {
  /** The tag, e.g. `cnn#production#5`. */
  tag: string;
  /** The local tag object and the version it points at (null when it is no registered version). */
  local: { object: string; version: number | null };
  /** The remote's tag object and the version it points at (null when unknown here). */
  remote: { object: string; version: number | null };
  /** `kept-local` (reported only) or `took-remote` (`conflicts: 'theirs'`). */
  resolution: 'kept-local' | 'took-remote';
}

/** Result of {@link Registry.pull}. */
export interface PullResult {
  /** The remote branch tip fetched, or null when the remote has no registry branch. */
  fetched: string | null;
  /** What happened to the local registry branch. */
  branch: 'created' | 'fast-forward' | 'up-to-date' | 'ahead';
  /** Registry tags now present locally that were not before. */
  newTags: string[];
  /** Tags the two sides disagree on (see {@link PullOptions.conflicts}); empty when they agree. */
  conflicts: PullConflict[];
}
