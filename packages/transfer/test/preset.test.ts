import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readModelMeta } from '@mlship/model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExperimentPreset, PresetEvent } from '../src/preset/preset';
import { runPreset, validatePreset } from '../src/preset/preset';
import type { SweepResult } from '../src/preset/sweep';
import { SHIFT } from './helpers';

let root: string;
beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'mlship-transfer-preset-'));
});
afterAll(async () => fs.rm(root, { recursive: true, force: true }));

/** The default preset's shape at toy size: real MNIST slices, a tiny CNN, one epoch. */
const preset: ExperimentPreset = {
  name: 'toy',
  description: 'MNIST 0-599 -> shifted MNIST, tiny CNN',
  base: {
    train: {
      data: { source: 'mnist', split: 'train', range: [0, 600] },
      test: { source: 'mnist', split: 'test', range: [0, 200] },
      model: { convFilters: [4, 8], denseUnits: [16] },
      epochs: 1,
    },
  },
  target: {
    train: { source: 'mnist', split: 'train', range: [600, 900], shift: SHIFT, shiftSeed: 1 },
    validation: { source: 'mnist', split: 'train', range: [900, 1000], shift: SHIFT, shiftSeed: 2 },
    test: { source: 'mnist', split: 'test', range: [200, 400], shift: SHIFT, shiftSeed: 3 },
  },
  experiment: {
    strategies: [{ kind: 'scratch' }, { kind: 'featureCache' }],
    seeds: [1],
    budget: { epochs: 1 },
  },
  sweep: { trainSize: [100, 300] },
};

describe('runPreset', () => {
  it('trains the base, runs the experiment per sweep size, writes the reports, and reuses everything when run again', async () => {
    const dir = path.join(root, 'toy');
    const events: PresetEvent[] = [];
    const first = await runPreset(preset, { dir, onEvent: (e) => events.push(e) });
    expect(first.base.reused).toBe(false);
    expect(first.base.sourceAccuracy).toBeGreaterThan(0.1);
    const meta = await readModelMeta(first.base.dir);
    expect(meta).toMatchObject({ metricsDataset: 'test', datasets: { train: { count: 600 } } });
    expect(first.experiments.map((e) => [e.name, e.settings.data.train.count])).toEqual([
      ['toy-n100', 100],
      ['toy-n300', 300],
    ]);
    expect(first.experiments[0]!.reference.sourceAccuracy).toBe(first.base.sourceAccuracy);
    expect(first.reports.map((r) => path.relative(dir, r.html))).toEqual([
      'n100/report.html',
      'n300/report.html',
    ]);
    const sweep = JSON.parse(await fs.readFile(first.sweepReport!.json, 'utf8')) as SweepResult;
    expect(sweep.strategies.map((s) => [s.strategy, s.points.map((p) => p.size)])).toEqual([
      ['scratch', [100, 300]],
      ['featureCache', [100, 300]],
    ]);
    expect(sweep.advantage.map((a) => a.size)).toEqual([100, 300]);
    expect(await fs.readFile(first.sweepReport!.html, 'utf8')).toContain('href="n100/report.html"');
    expect(await fs.readFile(first.sweepReport!.chart, 'utf8')).toMatch(/^<svg/);
    expect(events.filter((e) => e.type === 'base-epoch')).toHaveLength(1);

    const again: PresetEvent[] = [];
    const second = await runPreset(preset, { dir, onEvent: (e) => again.push(e) });
    expect(second.base.reused).toBe(true);
    const runEvents = again.flatMap((e) => (e.type === 'experiment' ? [e.event.type] : []));
    expect(runEvents.filter((t) => t === 'run-start')).toEqual([]);
    expect(runEvents.filter((t) => t === 'run-skipped')).toHaveLength(4);
    expect(second.experiments.map((e) => e.runs)).toEqual(first.experiments.map((e) => e.runs));
  });

  it.each<[string, unknown, RegExp]>([
    ['an unknown top-level key', { ...preset, seeds: [1] }, /preset: unknown option "seeds"/],
    [
      'a bad dataset source',
      { ...preset, target: { ...preset.target, test: { source: 'mnist', split: 'val' } } },
      /preset\.target\.test\.split: expected 'train' or 'test'/,
    ],
    [
      'a malformed strategy',
      {
        ...preset,
        experiment: { ...preset.experiment, strategies: [{ kind: 'freeze', layers: 3 }] },
      },
      /preset\.experiment\.strategies\[0\]\.layers: expected/,
    ],
    [
      'a bad shift',
      {
        ...preset,
        target: {
          ...preset.target,
          train: { source: 'mnist', shift: { kind: 'rotate', maxDegrees: -5 } },
        },
      },
      /preset\.target\.train\.shift/,
    ],
  ])('refuses %s naming the field', (_what, value, message) => {
    expect(() => validatePreset(value)).toThrow(message);
  });
});
