import type { RegistryContext } from '../context';
import { assertName, versionTag } from '../names';
import { readRecordAt } from '../storage/records';
import {
  currentStages,
  latestLive,
  modelState,
  scanModels,
  stagesOf,
  versionOfCommit,
} from '../storage/state';
import type { ModelSummary, ResolvedVersion, StageEvent, VersionSummary } from '../types';
import { operation } from '../errors';

/**
 * Lists the models of the registry.
 *
 * @param ctx - the registry
 * @returns one summary per model name, sorted by name
 * @throws the file system's error when the repository's tags cannot be read
 */
export const models = operation(
  'READ_FAILED',
  async function models(ctx: RegistryContext): Promise<ModelSummary[]> {
    const state = await scanModels(ctx);
    return [...state.entries()]
      .filter(([, m]) => m.versions.size > 0)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([name, m]) => ({
        name,
        latest: latestLive(m) ?? null,
        versions: m.versions.size,
        stages: Object.fromEntries(currentStages(m)),
      }));
  },
  () => 'listing models',
);

/**
 * Lists the versions of a model with their metrics and stages, oldest first.
 *
 * @param ctx - the registry
 * @param name - model name
 * @returns the versions (empty when the model has none)
 * @throws RegistryError `INVALID_NAME`
 */
export const versions = operation(
  'READ_FAILED',
  async function versions(ctx: RegistryContext, name: string): Promise<VersionSummary[]> {
    assertName(name);
    const m = await modelState(ctx, name);
    const out: VersionSummary[] = [];
    for (const [version, info] of [...m.versions].sort(([a], [b]) => a - b)) {
      const rec = await readRecordAt(ctx, info.commit, name);
      out.push({
        name,
        version,
        tag: versionTag(name, version),
        commit: info.commit,
        created: rec?.created ?? new Date(info.time * 1000).toISOString(),
        message: rec?.message ?? '',
        metrics: rec?.metrics ?? {},
        stages: stagesOf(m, version),
        deregistered: m.deregistered.has(version),
      });
    }
    return out;
  },
  (_ctx, name) => `listing versions of ${String(name)}`,
);

/**
 * The stages of a model and the version each points at now.
 *
 * @param ctx - the registry
 * @param name - model name
 * @returns stage -> version, sorted by stage
 * @throws RegistryError `INVALID_NAME`
 */
export const stages = operation(
  'READ_FAILED',
  async function stages(
    ctx: RegistryContext,
    name: string,
  ): Promise<Record<string, ResolvedVersion>> {
    assertName(name);
    const m = await modelState(ctx, name);
    const out: Record<string, ResolvedVersion> = {};
    for (const [stage, v] of [...currentStages(m)].sort(([a], [b]) => (a < b ? -1 : 1))) {
      out[stage] = {
        name,
        version: v,
        tag: versionTag(name, v),
        commit: m.versions.get(v)!.commit,
      };
    }
    return out;
  },
  (_ctx, name) => `reading the stages of ${String(name)}`,
);

/**
 * Every assignment and unassignment of a model's stages, oldest first.
 *
 * @param ctx - the registry
 * @param name - model name
 * @param stage - only this stage
 * @returns the events
 * @throws RegistryError `INVALID_NAME`
 */
export const stageHistory = operation(
  'READ_FAILED',
  async function stageHistory(
    ctx: RegistryContext,
    name: string,
    stage?: string,
  ): Promise<StageEvent[]> {
    assertName(name);
    const m = await modelState(ctx, name);
    const out: StageEvent[] = [];
    for (const e of m.events) {
      const p = e.parsed as { kind: 'assign' | 'unassign'; stage: string; counter: number };
      if (stage !== undefined && p.stage !== stage) continue;
      const version = versionOfCommit(m, e.commit);
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
  },
  (_ctx, name) => `reading the stage history of ${String(name)}`,
);
