import { describe, expect, it } from 'vitest';
import { isTransferError } from './errors';
import {
  STRATEGY_KINDS,
  strategyLabel,
  validateSelection,
  validateStrategy,
  withDefaults,
} from './strategy';

describe('validateStrategy', () => {
  it.each([
    { kind: 'scratch' },
    { kind: 'fineTune', learningRate: 1e-4, name: 'fineTune-slow' },
    { kind: 'freeze', layers: { type: ['conv2d', 'batchNormalization'] } },
    { kind: 'freeze', layers: [{ name: 'features_conv1' }, { range: [3, 5] }] },
    { kind: 'replaceHead', classes: 2, head: 'head', train: 'all' },
    { kind: 'twoPhase', headShare: 0.25, fineTuneLearningRate: 1e-5 },
    { kind: 'featureCache', layers: 'features' },
  ])('accepts %j', (strategy) => {
    expect(validateStrategy(strategy)).toBe(strategy);
    // JSON in, JSON out: a strategy survives a round trip unchanged.
    expect(JSON.parse(JSON.stringify(strategy))).toEqual(strategy);
  });

  it.each<[unknown, string, RegExp]>([
    [null, 'strategy', /strategy: expected a strategy object/],
    [
      { kind: 'finetune' },
      'strategy.kind',
      /expected one of 'scratch', 'fineTune', 'freeze', 'replaceHead', 'twoPhase', 'featureCache', got "finetune"/,
    ],
    [
      { kind: 'scratch', layers: 'features' },
      'strategy.layers',
      /unknown field of a 'scratch' strategy; accepted: kind, name, learningRate/,
    ],
    [{ kind: 'fineTune', learningRate: 0 }, 'strategy.learningRate', /a positive number, got 0/],
    [{ kind: 'fineTune', name: 'two words' }, 'strategy.name', /letters, digits/],
    [{ kind: 'freeze', layers: 'body' }, 'strategy.layers', /'features', 'head', \{type\}/],
    [
      { kind: 'freeze', layers: { type: 'conv2d', name: 'x' } },
      'strategy.layers',
      /exactly one of the keys/,
    ],
    [
      { kind: 'freeze', layers: { names: ['x'] } },
      'strategy.layers.names',
      /one of the keys type, name, range/,
    ],
    [
      { kind: 'freeze', layers: { name: [] } },
      'strategy.layers.name',
      /non-empty array of strings/,
    ],
    [
      { kind: 'freeze', layers: { name: ['a', 3] } },
      'strategy.layers.name[1]',
      /a non-empty string, got 3/,
    ],
    [{ kind: 'freeze', layers: { range: [3, 3] } }, 'strategy.layers.range', /0 <= start < end/],
    [{ kind: 'freeze', layers: [] }, 'strategy.layers', /non-empty array of selections/],
    [
      { kind: 'freeze', layers: ['features', { type: '' }] },
      'strategy.layers[1].type',
      /non-empty string/,
    ],
    [{ kind: 'replaceHead', classes: 1 }, 'strategy.classes', /an integer >= 2/],
    [{ kind: 'replaceHead', train: 'features' }, 'strategy.train', /'head' or 'all'/],
    [{ kind: 'twoPhase', headShare: 1 }, 'strategy.headShare', /a number in \(0, 1\)/],
  ])('refuses %j naming %s', (strategy, path, message) => {
    let caught: unknown;
    try {
      validateStrategy(strategy);
    } catch (e) {
      caught = e;
    }
    expect(isTransferError(caught)).toBe(true);
    expect(caught).toMatchObject({ code: 'INVALID_STRATEGY', data: { path } });
    expect((caught as Error).message).toMatch(message);
    expect((caught as Error).message.startsWith(`${path}:`)).toBe(true);
  });

  it('uses the field path it is given (experiments name the strategy by index)', () => {
    expect(() => validateStrategy({ kind: 'freeze', layers: 7 }, 'strategies[3]')).toThrow(
      /^strategies\[3\]\.layers: expected/,
    );
  });
});

describe('withDefaults and strategyLabel', () => {
  it('writes out the defaults a strategy runs with, without changing its input', () => {
    const input = { kind: 'twoPhase' as const };
    expect(withDefaults(input)).toEqual({ kind: 'twoPhase', layers: 'features', headShare: 0.5 });
    expect(input).toEqual({ kind: 'twoPhase' });
    expect(withDefaults({ kind: 'replaceHead' })).toEqual({
      kind: 'replaceHead',
      head: 'head',
      train: 'head',
    });
    expect(withDefaults({ kind: 'fineTune' })).toEqual({ kind: 'fineTune' });
  });

  it('labels a strategy by its name, else its kind', () => {
    expect(STRATEGY_KINDS.map((kind) => strategyLabel({ kind }))).toEqual([...STRATEGY_KINDS]);
    expect(strategyLabel({ kind: 'freeze', name: 'freeze-convs' })).toBe('freeze-convs');
  });

  it('checks a selection on its own', () => {
    expect(validateSelection('head')).toBe('head');
    expect(() => validateSelection({ range: [-1, 2] }, 'x')).toThrow(/^x\.range: expected/);
  });
});
