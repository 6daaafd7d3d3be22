import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { meanSd } from '../src/experiment/aggregate';
import type { ExperimentConfig } from '../src/experiment/config';
import { runExperiment } from '../src/experiment/runner';
import type { ExperimentEvent, RunResult } from '../src/experiment/types';
import type { Fixture } from './helpers';
import { fixture } from './helpers';

let fx: Fixture;
beforeAll(async () => {
  fx = await fixture();
});
afterAll(async () => fx?.cleanup());

const config: ExperimentConfig = {
  name: 'tiny',
  strategies: [{ kind: 'fineTune' }, { kind: 'featureCache' }],
  seeds: [1, 2],
  budget: { epochs: 2 },
  thresholds: [0.2, 0.99],
};

const brief = (e: ExperimentEvent): string =>
  'strategy' in e ? `${e.type} ${e.strategy}/${e.seed}` : e.type;

describe('runExperiment', () => {
  it('runs every strategy × seed with the same budget and aggregates mean ± sd over seeds', async () => {
    const events: ExperimentEvent[] = [];
    const result = await runExperiment(
      config,
      { base: fx.baseDir, data: fx.data },
      { onEvent: (e) => events.push(e) },
    );
    expect(result.runs.map((r) => `${r.strategy}/${r.seed}`)).toEqual([
      'fineTune/1',
      'fineTune/2',
      'featureCache/1',
      'featureCache/2',
    ]);
    for (const run of result.runs) {
      expect(run.history.map((h) => h.epoch)).toEqual([1, 2]);
      // elapsed grows; validation after every epoch
      expect(run.history[1]!.elapsed).toBeGreaterThan(run.history[0]!.elapsed);
      expect(run.history.every((h) => typeof h.valAccuracy === 'number')).toBe(true);
      expect(run.imagesPerSec).toBeCloseTo((2 * 300) / run.seconds, 6);
      const hit = run.history.find((h) => h.valAccuracy! >= 0.2);
      expect(run.timeToAccuracy[0]).toEqual({
        threshold: 0.2,
        seconds: hit?.elapsed ?? null,
        epoch: hit?.epoch ?? null,
      });
      expect(run.timeToAccuracy[1]).toEqual({ threshold: 0.99, seconds: null, epoch: null });
    }
    const fine = result.summary[0]!;
    const mine = result.runs.filter((r) => r.strategy === 'fineTune');
    expect(fine.testAccuracy).toEqual(meanSd(mine.map((r) => r.test.accuracy)));
    expect(fine.epochs[1]!.valAccuracy).toEqual(
      meanSd(mine.map((r) => r.history[1]!.valAccuracy!)),
    );
    expect(fine.trainableParams).toBe(3722);
    expect(result.summary[1]).toMatchObject({
      strategy: 'featureCache',
      trainableParams: 3386,
      frozenParams: 336,
    });
    // the untouched base on the target, and the old level from its mlship.json
    expect(result.reference.targetAccuracy).toBeGreaterThan(0);
    expect(result.reference.sourceAccuracy).toBe(fx.sourceAccuracy);
    expect(result.findings.map((f) => f.id)).toEqual([
      'adapts',
      'freezeReachesOldLevel',
      'fineTuneBeatsOriginal',
    ]);
    expect(result.findings[0]!.held).toBeNull(); // no scratch run
    expect(events.filter((e) => e.type !== 'progress' && e.type !== 'epoch').map(brief)).toEqual([
      'start',
      'run-start fineTune/1',
      'run-end fineTune/1',
      'run-start fineTune/2',
      'run-end fineTune/2',
      'run-start featureCache/1',
      'run-end featureCache/1',
      'run-start featureCache/2',
      'run-end featureCache/2',
      'end',
    ]);
    expect(events.filter((e) => e.type === 'epoch')).toHaveLength(8);
  });

  it('resumes after an interrupted run: finished runs are kept and skipped, the aborted run leaves no file', async () => {
    const dir = path.join(fx.root, 'resume');
    const controller = new AbortController();
    const first: ExperimentEvent[] = [];
    await expect(
      runExperiment(
        config,
        { base: fx.baseDir, data: fx.data },
        {
          dir,
          signal: controller.signal,
          onEvent: (e) => {
            first.push(e);
            // interrupt the second run after its first epoch
            if (e.type === 'epoch' && e.index === 2) controller.abort();
          },
        },
      ),
    ).rejects.toMatchObject({ name: 'TransferError', code: 'ABORTED' });
    expect(await fs.readdir(path.join(dir, 'runs'))).toEqual(['fineTune--seed-1.json']);
    const kept = JSON.parse(
      await fs.readFile(path.join(dir, 'runs', 'fineTune--seed-1.json'), 'utf8'),
    ) as RunResult;

    const second: ExperimentEvent[] = [];
    const result = await runExperiment(
      config,
      { base: fx.baseDir, data: fx.data },
      { dir, onEvent: (e) => second.push(e) },
    );
    expect(second.filter((e) => e.type.startsWith('run-')).map(brief)).toEqual([
      'run-skipped fineTune/1',
      'run-start fineTune/2',
      'run-end fineTune/2',
      'run-start featureCache/1',
      'run-end featureCache/1',
      'run-start featureCache/2',
      'run-end featureCache/2',
    ]);
    expect(second[0]).toMatchObject({ type: 'start', runs: 4, done: 1 });
    expect(result.runs[0]).toEqual(kept);
    expect((await fs.readdir(path.join(dir, 'runs'))).sort()).toEqual([
      'featureCache--seed-1.json',
      'featureCache--seed-2.json',
      'fineTune--seed-1.json',
      'fineTune--seed-2.json',
    ]);
    const written = JSON.parse(await fs.readFile(path.join(dir, 'experiment.json'), 'utf8'));
    expect(written).toMatchObject({ format: 'mlship-transfer-experiment/1', name: 'tiny' });

    // Other inputs (a longer budget) make the kept runs stale: they run again.
    const third: ExperimentEvent[] = [];
    await runExperiment(
      { ...config, strategies: [{ kind: 'featureCache' }], seeds: [1], budget: { epochs: 3 } },
      { base: fx.baseDir, data: fx.data },
      { dir, onEvent: (e) => third.push(e) },
    );
    expect(third.filter((e) => e.type.startsWith('run-')).map(brief)).toEqual([
      'run-stale featureCache/1',
      'run-start featureCache/1',
      'run-end featureCache/1',
    ]);
  });

  it('checks every strategy against the base before the first run', async () => {
    const events: ExperimentEvent[] = [];
    await expect(
      runExperiment(
        {
          ...config,
          strategies: [
            { kind: 'fineTune' },
            { kind: 'freeze', layers: { name: 'features_conv3' } },
          ],
        },
        { base: fx.baseDir, data: fx.data },
        { onEvent: (e) => events.push(e) },
      ),
    ).rejects.toMatchObject({
      code: 'INVALID_STRATEGY',
      message: expect.stringMatching(
        /experiment\.strategies\[1\]\.layers\.name: "features_conv3" is not a layer/,
      ),
      data: { path: 'experiment.strategies[1].layers.name', layer: 'features_conv3' },
    });
    expect(events).toEqual([]);
  });

  it('refuses two strategies with the same label', async () => {
    await expect(
      runExperiment(
        { ...config, strategies: [{ kind: 'fineTune' }, { kind: 'fineTune', learningRate: 1e-4 }] },
        { base: fx.baseDir, data: fx.data },
      ),
    ).rejects.toMatchObject({
      code: 'INVALID_STRATEGY',
      message: expect.stringMatching(
        /strategies\[1\]: label "fineTune" is already used by strategies\[0\]/,
      ),
    });
  });
});
