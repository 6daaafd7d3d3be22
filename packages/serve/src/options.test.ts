import { describe, expect, it } from 'vitest';
import { isServeError } from './errors';
import { DEFAULTS, normalizeOptions } from './options';
import type { ServeOptions } from './options';

describe('normalizeOptions (createServer options)', () => {
  it('fills in the documented defaults', () => {
    const o = normalizeOptions({ models: [{ name: 'cnn', source: './cnn' }] });
    expect(o).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      workers: DEFAULTS.workers,
      batching: { maxBatchSize: 64, maxDelayMs: 0, maxQueue: 1024 },
      timeoutMs: 10_000,
      limits: { bodyBytes: 8 * 1024 * 1024, instances: 256, imagePixels: 4096 * 4096 },
      watchIntervalMs: 2_000,
      cors: false,
      ui: true,
      backend: 'wasm',
    });
    expect(o.models).toEqual([
      { name: 'cnn', sources: [{ kind: 'dir', dir: './cnn', label: undefined }] },
    ]);
  });

  it('normalises registry sources and labels', () => {
    const o = normalizeOptions({
      models: [
        {
          name: 'cnn',
          source: [
            { registry: '/r', ref: 'cnn#production' },
            { registry: '/r', ref: 'cnn@v3', label: 'pinned' },
          ],
        },
      ],
    });
    expect(o.models[0]?.sources).toEqual([
      { kind: 'registry', registry: '/r', ref: 'cnn#production', label: undefined },
      { kind: 'registry', registry: '/r', ref: 'cnn@v3', label: 'pinned' },
    ]);
  });

  it.each<[string, unknown, RegExp, string]>([
    [
      'an unknown key',
      { models: [{ name: 'a', source: '/a' }], portt: 1 },
      /unknown option "portt" \(did you mean "port"\?\)/,
      'INVALID_OPTION',
    ],
    ['no models', { models: [] }, /models: expected a non-empty list/, 'INVALID_OPTION'],
    [
      'a bad model name',
      { models: [{ name: 'Bad Name', source: '/a' }] },
      /invalid model name "Bad Name"/,
      'INVALID_NAME',
    ],
    [
      'a model listed twice',
      {
        models: [
          { name: 'a', source: '/a' },
          { name: 'a', source: '/b' },
        ],
      },
      /listed twice/,
      'INVALID_OPTION',
    ],
    [
      'a dir mixed with registry refs',
      { models: [{ name: 'a', source: ['/a', { registry: '/r', ref: 'a#p' }] }] },
      /not a mix/,
      'INVALID_OPTION',
    ],
    [
      'two registries',
      {
        models: [
          {
            name: 'a',
            source: [
              { registry: '/r', ref: 'a#p' },
              { registry: '/s', ref: 'a#q' },
            ],
          },
        ],
      },
      /same registry/,
      'INVALID_OPTION',
    ],
    [
      'a typo in a source',
      { models: [{ name: 'a', source: { registry: '/r', reff: 'a' } }] },
      /unknown option "reff"/,
      'INVALID_OPTION',
    ],
    [
      'a bad port',
      { models: [{ name: 'a', source: '/a' }], port: 70000 },
      /port: expected an integer in \[0, 65535\], got 70000/,
      'INVALID_OPTION',
    ],
    [
      'bad batching',
      { models: [{ name: 'a', source: '/a' }], batching: { maxBatchSize: 0 } },
      /batching\.maxBatchSize: expected an integer in \[1, 4096\]/,
      'INVALID_OPTION',
    ],
    [
      'a bad logger',
      { models: [{ name: 'a', source: '/a' }], logger: { info() {} } },
      /logger: expected an object with debug, info, warn and error functions/,
      'INVALID_OPTION',
    ],
    [
      'bad cors',
      { models: [{ name: 'a', source: '/a' }], cors: 5 },
      /cors: expected a boolean, an origin or a list of origins/,
      'INVALID_OPTION',
    ],
  ])('refuses %s', (_what, options, message, code) => {
    try {
      normalizeOptions(options as ServeOptions);
      expect.unreachable();
    } catch (e) {
      expect(isServeError(e) && e.code === code).toBe(true);
      expect((e as Error).message).toMatch(message);
    }
  });
});
