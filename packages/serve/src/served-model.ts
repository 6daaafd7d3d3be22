import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { MODEL_META_FILE, sha256Hex } from '@mlship/core';
import { openRegistry, parseVersionRef } from '@mlship/registry';
import type { Registry } from '@mlship/registry';
import { isServeError, loadError, notFound } from './errors';
import type { ServeError } from './errors';
import type { ServeLogger } from './logger';
import type { NormalizedModel, NormalizedOptions, NormalizedSource } from './options';
import { LoadedVersion } from './version';
import type { VersionOrigin } from './version';

interface SourceState {
  src: NormalizedSource;
  /** The TF Serving label this source answers to, if any. */
  label: string | undefined;
  /** Whether the source can move (a stage, `@latest`, a directory). */
  moving: boolean;
  current: LoadedVersion | undefined;
  /** Directory sources: sha256 of the mlship.json last tried. */
  lastHash?: string;
}

/** The state of one version, as the status routes report it. */
export interface VersionStatus {
  /** The version number. */
  version: number;
  /** TF Serving's states: `AVAILABLE` (serving), `UNLOADING` (draining), `END` (unloaded or refused). */
  state: 'AVAILABLE' | 'UNLOADING' | 'END';
  /** Labels (stages) currently pointing at it. */
  labels: string[];
  /** Why it is not serving, for a version that failed to load or warm up. */
  error?: { code: string; message: string };
}

/** @internal Hooks the server gives each model (metrics, logs). */
export interface ModelHooks {
  logger: ServeLogger;
  onBatch(model: string, version: number, size: number, ms: number): void;
}

/**
 * @internal One served model: its sources, the versions they point at, refused versions, and the
 * watch logic that loads, verifies, warms up and atomically swaps in new versions.
 */
export class ServedModel {
  readonly name: string;
  private readonly sources: SourceState[];
  private readonly versions = new Map<number, LoadedVersion>();
  private readonly failures = new Map<number, { code: string; message: string }>();
  private registry: Registry | undefined;
  private nextDirVersion = 1;
  private refreshing: Promise<void> | undefined;
  private closed = false;

  constructor(
    config: NormalizedModel,
    private readonly o: NormalizedOptions,
    private readonly cacheDir: string,
    private readonly hooks: ModelHooks,
  ) {
    this.name = config.name;
    this.sources = config.sources.map((src) => {
      if (src.kind === 'dir') return { src, label: src.label, moving: true, current: undefined };
      const ref = parseVersionRef(src.ref);
      const label =
        src.label ??
        (ref.kind === 'stage' ? ref.stage : ref.kind === 'latest' ? 'latest' : undefined);
      return {
        src,
        label,
        moving: ref.kind === 'stage' || ref.kind === 'latest',
        current: undefined,
      };
    });
  }

  /** Loads every source's version; throws (after cleaning up) when any cannot be served. */
  async init(): Promise<void> {
    const registrySource = this.sources.find((s) => s.src.kind === 'registry')?.src;
    if (registrySource?.kind === 'registry') {
      try {
        this.registry = await openRegistry({ dir: registrySource.registry, create: false });
      } catch (e) {
        throw loadError(e, `model ${this.name}: cannot open registry ${registrySource.registry}`, {
          model: this.name,
          path: registrySource.registry,
        });
      }
    }
    try {
      for (const s of this.sources) {
        const next = await this.check(s, true);
        if (next !== undefined) this.assign(s, next);
      }
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  /** Polls every moving source once; new versions are loaded and swapped in. Never throws. */
  refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      try {
        for (const s of this.sources) {
          if (this.closed || !s.moving) continue;
          try {
            const next = await this.check(s, false);
            if (next !== undefined && !this.closed) this.assign(s, next);
          } catch (e) {
            this.hooks.logger.error(
              { event: 'watch-failed', model: this.name, error: String(e) },
              'watching a source failed',
            );
          }
        }
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  /**
   * What a source points at now, loaded: undefined when unchanged (or a refused version that
   * stays refused). `initial` makes failures throw instead of being recorded.
   */
  private async check(s: SourceState, initial: boolean): Promise<LoadedVersion | undefined> {
    if (s.src.kind === 'dir') {
      const dir = path.resolve(s.src.dir);
      let digest: string;
      try {
        digest = sha256Hex(await readFile(path.join(dir, MODEL_META_FILE)));
      } catch {
        if (initial) return this.loadDir(s, dir, 'unreadable', true);
        return undefined; // mid-replacement or removed: keep serving what was verified
      }
      if (digest === s.lastHash) return undefined;
      return this.loadDir(s, dir, digest, initial);
    }
    const src = s.src;
    const registry = this.registry as Registry;
    let resolved;
    try {
      resolved = await registry.resolve(src.ref);
    } catch (e) {
      if (initial)
        throw loadError(
          e,
          `model ${this.name}: cannot resolve ${src.ref} in registry ${src.registry}`,
          { model: this.name },
        );
      return undefined; // e.g. the stage was unassigned: keep serving the last version
    }
    if (s.current?.version === resolved.version) return undefined;
    const loaded = this.versions.get(resolved.version);
    if (loaded !== undefined) return loaded;
    if (!initial && this.failures.has(resolved.version)) return undefined; // versions never change: stays refused
    const dest = path.join(this.cacheDir, this.name, `v${resolved.version}`);
    const origin: VersionOrigin = {
      kind: 'registry',
      dir: dest,
      tag: resolved.tag,
      commit: resolved.commit,
    };
    try {
      await registry.checkout(resolved.tag, dest, { overwrite: true });
      return await this.load(resolved.version, origin);
    } catch (e) {
      const err = loadError(e, `model ${this.name} version ${resolved.version} (${resolved.tag})`, {
        model: this.name,
        version: resolved.version,
      });
      if (initial) throw err;
      this.refuse(resolved.version, err, src.ref);
      return undefined;
    }
  }

  private async loadDir(
    s: SourceState,
    dir: string,
    digest: string,
    initial: boolean,
  ): Promise<LoadedVersion | undefined> {
    s.lastHash = digest;
    const version = this.nextDirVersion;
    try {
      const v = await this.load(version, { kind: 'dir', dir });
      this.nextDirVersion++;
      return v;
    } catch (e) {
      const err = isServeError(e)
        ? e
        : loadError(e, `model ${this.name} version ${version} (${dir})`, {
            model: this.name,
            version,
          });
      if (initial) throw err;
      this.refuse(version, err, dir);
      return undefined;
    }
  }

  private async load(version: number, origin: VersionOrigin): Promise<LoadedVersion> {
    const started = performance.now();
    const v = await LoadedVersion.load(this.name, version, origin, this.o, (size, ms) =>
      this.hooks.onBatch(this.name, version, size, ms),
    );
    this.failures.delete(version);
    this.hooks.logger.info(
      {
        event: 'version-loaded',
        model: this.name,
        version,
        source: origin.tag ?? origin.dir,
        ms: Math.round(performance.now() - started),
      },
      `loaded ${this.name} version ${version}`,
    );
    return v;
  }

  private refuse(version: number, err: ServeError, source: string): void {
    this.failures.set(version, { code: err.code, message: err.message });
    this.hooks.logger.warn(
      {
        event: 'version-refused',
        model: this.name,
        version,
        source,
        code: err.code,
        error: err.message,
      },
      `refused ${this.name} version ${version}: the serving version is kept`,
    );
  }

  /** Points `s` at `next` (atomic for requests: one assignment), then retires what nothing points at. */
  private assign(s: SourceState, next: LoadedVersion): void {
    const prev = s.current;
    this.versions.set(next.version, next);
    s.current = next;
    if (prev !== undefined && prev !== next) {
      this.hooks.logger.info(
        {
          event: 'version-swapped',
          model: this.name,
          from: prev.version,
          to: next.version,
          label: s.label ?? null,
        },
        `${this.name}${s.label ? `/${s.label}` : ''}: version ${prev.version} -> ${next.version}`,
      );
      if (!this.sources.some((o) => o.current === prev)) void this.unload(prev);
    }
  }

  private async unload(v: LoadedVersion): Promise<void> {
    this.versions.delete(v.version);
    await v.retire();
    this.hooks.logger.info(
      { event: 'version-unloaded', model: this.name, version: v.version },
      `unloaded ${this.name} version ${v.version}`,
    );
  }

  /** The version that answers the default route. */
  get defaultVersion(): LoadedVersion | undefined {
    return this.sources[0]?.current;
  }

  /** Whether every source has a serving version. */
  get ready(): boolean {
    return !this.closed && this.sources.every((s) => s.current?.state === 'AVAILABLE');
  }

  /** Label -> version. */
  labels(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.sources)
      if (s.label !== undefined && s.current) out[s.label] = s.current.version;
    return out;
  }

  /** Loaded versions, ascending. */
  loaded(): LoadedVersion[] {
    return [...this.versions.values()].sort((a, b) => a.version - b.version);
  }

  /**
   * The version a request names (`version` string from the URL or `label`), or the default.
   *
   * @throws ServeError `NOT_FOUND`
   */
  resolve(sel: { version?: string | undefined; label?: string | undefined }): LoadedVersion {
    if (sel.version !== undefined) {
      const n = /^[1-9][0-9]{0,14}$/.test(sel.version) ? Number(sel.version) : NaN;
      const v = Number.isNaN(n) ? undefined : this.versions.get(n);
      if (v === undefined || v.state !== 'AVAILABLE') {
        const failure = Number.isNaN(n) ? undefined : this.failures.get(n);
        throw notFound(
          failure
            ? `Model ${this.name} version ${sel.version} is not available: it failed to load (${failure.message})`
            : `Model ${this.name} has no version ${JSON.stringify(sel.version).slice(0, 40)} (serving: ${
                this.loaded()
                  .map((x) => x.version)
                  .join(', ') || 'none'
              })`,
          { model: this.name },
        );
      }
      return v;
    }
    if (sel.label !== undefined) {
      const s = this.sources.find((x) => x.label === sel.label);
      if (s?.current === undefined)
        throw notFound(
          `Model ${this.name} has no label ${JSON.stringify(sel.label).slice(0, 60)} (labels: ${Object.keys(this.labels()).join(', ') || 'none'})`,
          { model: this.name },
        );
      return s.current;
    }
    const v = this.defaultVersion;
    if (v === undefined)
      throw notFound(`Model ${this.name} has no serving version`, { model: this.name });
    return v;
  }

  /** Every known version: loaded ones and refused ones, ascending. */
  status(): VersionStatus[] {
    const labels = this.labels();
    const out: VersionStatus[] = this.loaded().map((v) => ({
      version: v.version,
      state: v.state,
      labels: Object.keys(labels).filter((l) => labels[l] === v.version),
    }));
    for (const [version, error] of this.failures) {
      if (this.versions.has(version)) continue;
      out.push({ version, state: 'END', labels: [], error });
    }
    return out.sort((a, b) => a.version - b.version);
  }

  /** Stops watching; waits for a refresh in progress; retires every version (draining requests). */
  async close(): Promise<void> {
    this.closed = true;
    await this.refreshing?.catch(() => undefined);
    const all = [...this.versions.values()];
    this.versions.clear();
    for (const s of this.sources) s.current = undefined;
    await Promise.all(all.map((v) => v.retire()));
  }
}
