import { describe, expect, it } from 'vitest';
import { validateModelMeta, weightPathsOf } from './meta';

const valid = () => ({
  format: 'mlship-model/1',
  name: 'cnn',
  labels: ['0', '1'],
  input: { shape: [28, 28, 1], dtype: 'float32', scale: 1 / 255, offset: 0 },
  spec: null,
  training: { epochs: 5 },
  history: [],
  metrics: { accuracy: 0.98 },
  datasets: { train: { fingerprint: `sha256:${'a'.repeat(64)}`, count: 10000 } },
  parent: null,
  strategy: null,
  created: '2026-11-27T00:00:00.000Z',
  files: { 'model.json': { sha256: 'b'.repeat(64), bytes: 10 } },
});

describe('validateModelMeta', () => {
  it('accepts valid metadata, keeping unknown keys', () => {
    const m = { ...valid(), extraKey: 1 };
    expect(validateModelMeta(m)).toBe(m);
  });

  it('accepts a registry parent and a strategy object', () => {
    expect(() =>
      validateModelMeta({
        ...valid(),
        parent: { name: 'cnn', version: 1, ref: 'cnn@v1.0.0' },
        strategy: { kind: 'freeze', layers: 'features' },
      }),
    ).not.toThrow();
  });

  it.each([
    [
      'format',
      (m: Record<string, unknown>) => (m.format = 'mlship-model/2'),
      /format: expected "mlship-model\/1"/,
    ],
    [
      'name',
      (m: Record<string, unknown>) => (m.name = 'Model A'),
      /name: expected a name: lowercase/,
    ],
    [
      'name ending in -',
      (m: Record<string, unknown>) => (m.name = 'cnn-'),
      /name: expected a name/,
    ],
    [
      'labels',
      (m: Record<string, unknown>) => (m.labels = ['only']),
      /labels: expected an array of at least 2/,
    ],
    [
      'input dtype',
      (m: Record<string, unknown>) => ((m.input as Record<string, unknown>).dtype = 'int32'),
      /input: expected/,
    ],
    [
      'input shape',
      (m: Record<string, unknown>) => ((m.input as Record<string, unknown>).shape = [28, 28]),
      /input: expected/,
    ],
    ['files', (m: Record<string, unknown>) => (m.files = []), /files: expected an object/],
    [
      'files path',
      (m: Record<string, unknown>) =>
        ((m.files as Record<string, unknown>)['../x'] = { sha256: 'a'.repeat(64), bytes: 1 }),
      /files\["\.\.\/x"\]: expected a relative posix path/,
    ],
    [
      'files mlship.json',
      (m: Record<string, unknown>) =>
        ((m.files as Record<string, unknown>)['mlship.json'] = {
          sha256: 'a'.repeat(64),
          bytes: 1,
        }),
      /other than mlship.json/,
    ],
    [
      'files hash',
      (m: Record<string, unknown>) =>
        ((m.files as Record<string, unknown>)['model.json'] = { sha256: 'XYZ', bytes: 1 }),
      /sha256: 64 lowercase hex/,
    ],
    [
      'files model.json',
      (m: Record<string, unknown>) => (m.files = { 'a.bin': { sha256: 'a'.repeat(64), bytes: 1 } }),
      /files: expected an entry for "model.json"/,
    ],
    [
      'created',
      (m: Record<string, unknown>) => (m.created = 'yesterday'),
      /created: expected an ISO-8601/,
    ],
    [
      'metrics',
      (m: Record<string, unknown>) => (m.metrics = { accuracy: 'high' }),
      /metrics.accuracy: expected a finite number/,
    ],
    [
      'datasets',
      (m: Record<string, unknown>) => (m.datasets = { train: { count: 1 } }),
      /datasets.train: expected \{fingerprint/,
    ],
    ['history', (m: Record<string, unknown>) => (m.history = {}), /history: expected an array/],
    [
      'parent',
      (m: Record<string, unknown>) => (m.parent = 5),
      /parent: expected null, a string ref, or \{name, version, ref\}/,
    ],
    [
      'strategy',
      (m: Record<string, unknown>) => (m.strategy = 5),
      /strategy: expected null, a strategy name, or a strategy object/,
    ],
  ])('refuses a bad %s with INVALID_META naming the field', (_field, change, message) => {
    const m = valid() as Record<string, unknown>;
    change(m);
    expect(() => validateModelMeta(m, 'x/mlship.json')).toThrow(message);
    try {
      validateModelMeta(m, 'x/mlship.json');
    } catch (e) {
      expect(e).toMatchObject({ code: 'INVALID_META', data: { path: 'x/mlship.json' } });
    }
  });
});

describe('weightPathsOf', () => {
  it('lists every manifest path in order', () => {
    expect(
      weightPathsOf(
        JSON.stringify({ weightsManifest: [{ paths: ['a.bin'] }, { paths: ['b.bin', 'c.bin'] }] }),
      ),
    ).toEqual(['a.bin', 'b.bin', 'c.bin']);
  });
  it.each([['{'], ['{}'], ['{"weightsManifest":[{"paths":[1]}]}']])('refuses %s', (text) => {
    expect(() => weightPathsOf(text)).toThrow(/model.json: expected/);
  });
});
