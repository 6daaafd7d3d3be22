import { describe, expect, it } from 'vitest';
import { checkConfig, coerceField } from './fields';
import type { Field, FieldType } from './fields';
import { parseDatasetSpec } from './data-source';
import { exitCodeOf, CliError } from './errors';

describe('coerceField', () => {
  it.each<[FieldType, unknown, boolean, unknown]>([
    [{ kind: 'int' }, '5', true, 5],
    [{ kind: 'int' }, 5, false, 5],
    [{ kind: 'int', min: 0 }, '0', true, 0],
    [{ kind: 'number', min: 0, exclusiveMin: true }, '0.002', true, 0.002],
    [{ kind: 'boolean' }, true, true, true],
    [{ kind: 'workers' }, 'auto', true, 'auto'],
    [{ kind: 'workers' }, '0', true, 0],
    [{ kind: 'list' }, 'a, b', true, ['a', 'b']],
    [{ kind: 'enum', values: ['a', 'b'] }, 'b', false, 'b'],
  ])('%j accepts %j (flag %s)', (type, raw, fromFlag, expected) => {
    expect(coerceField(type, raw, fromFlag)).toEqual(expected);
  });

  it.each<[FieldType, unknown, boolean, RegExp]>([
    [{ kind: 'int' }, 'five', true, /a positive integer/],
    [{ kind: 'int' }, '5', false, /a positive integer/], // a config file number must be a JSON number
    [{ kind: 'int' }, 2.5, false, /a positive integer/],
    [{ kind: 'number', min: 0, max: 0.9 }, 1, false, /a number >= 0 and <= 0.9/],
    [{ kind: 'enum', values: ['adam', 'sgd'] }, 'adamw', true, /one of adam, sgd/],
    [{ kind: 'workers' }, -1, false, /"auto" or an integer >= 0/],
    [{ kind: 'list' }, [], false, /a non-empty array/],
    [{ kind: 'boolean' }, 'yes', false, /true or false/],
  ])('%j refuses %j (flag %s)', (type, raw, fromFlag, message) => {
    expect(() => coerceField(type, raw, fromFlag)).toThrow(message);
  });
});

describe('checkConfig', () => {
  const fields: Field[] = [
    { key: 'epochs', help: '', type: { kind: 'int' } },
    { key: 'gate.margin', help: '', type: { kind: 'number', min: 0 } },
    { key: 'data', help: '', type: { kind: 'dataset' } },
  ];

  it('reads top-level and nested fields by dotted key', () => {
    expect(
      checkConfig(
        fields,
        { epochs: 2, gate: { margin: 0.01 }, data: 'mnist:test[0:10]' },
        'c.json',
      ),
    ).toEqual({
      epochs: 2,
      'gate.margin': 0.01,
      data: { source: 'mnist', split: 'test', start: 0, end: 10 },
    });
  });

  it.each([
    [{ epoch: 2 }, /c\.json: unknown field "epoch" \(did you mean "epochs"\?\)/, 'epoch'],
    [{ gate: { margn: 1 } }, /c\.json \(gate\): unknown field "margn"/, 'gate.margn'],
    [
      { gate: { margin: -1 } },
      /c\.json: field "gate\.margin": expected a number >= 0, got -1/,
      'gate.margin',
    ],
    [{ gate: 3 }, /field "gate": expected an object, got 3/, 'gate'],
    [{ data: 'mnist:validation' }, /field "data": dataset "mnist:validation": expected/, 'data'],
  ])('names the field of %j', (config, message, path) => {
    try {
      checkConfig(fields, config, 'c.json');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(CliError);
      expect((e as CliError).code).toBe('INVALID_CONFIG');
      expect((e as CliError).message).toMatch(message);
      expect((e as CliError).data?.path).toBe(path);
      expect(exitCodeOf(e)).toBe(2);
    }
  });
});

describe('parseDatasetSpec', () => {
  it.each([
    ['mnist', { source: 'mnist', split: 'train' }],
    ['mnist:test', { source: 'mnist', split: 'test' }],
    ['mnist:train[10000:20000]', { source: 'mnist', split: 'train', start: 10000, end: 20000 }],
    ['mnist:train[:500]', { source: 'mnist', split: 'train', end: 500 }],
    ['idx:a.idx,b.idx', { source: 'idx', images: 'a.idx', labels: 'b.idx' }],
    ['folder:./digits', { source: 'folder', dir: './digits' }],
  ])('parses %s', (text, spec) => {
    expect(parseDatasetSpec(text)).toEqual(spec);
  });

  it.each([
    ['mnist:train[5:2]', /end > start/],
    ['cifar', /expected mnist\[:train\|test\]/],
    [{ source: 'mnist', shift: { kind: 'spin' } }, /dataset shift/],
    [{ source: 'mnist', count: 3 }, /unknown option "count"/],
    [{ source: 'idx', images: 'a' }, /images and labels/],
  ])('refuses %j', (value, message) => {
    expect(() => parseDatasetSpec(value)).toThrow(message);
  });
});

describe('exitCodeOf', () => {
  it('maps a failed gate to 3, bad input to 2, anything else to 1', () => {
    expect(exitCodeOf(new CliError('GATE_FAILED', 'x'))).toBe(3);
    expect(exitCodeOf(new CliError('USAGE', 'x'))).toBe(2);
    expect(exitCodeOf(new CliError('READ_FAILED', 'x'))).toBe(1);
    expect(exitCodeOf(new Error('x'))).toBe(1);
  });
});
