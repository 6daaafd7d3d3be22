import net from 'node:net';
import path from 'node:path';
import * as zlib from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MlshipServer } from '../src/index';
import { call, copyFixture, pngOf, removeAll, serve, tempDir } from './helpers';

let root: string;
let server: MlshipServer;
let port: number;
// A valid 28x28 PNG (a diagonal stroke) the arbitraries truncate and corrupt.
const goodPng = pngOf(
  Uint8Array.from({ length: 784 }, (_, i) =>
    Math.abs((i % 28) - Math.floor(i / 28)) < 2 ? 255 : 0,
  ),
).toString('base64');

beforeAll(async () => {
  root = await tempDir('hostile');
  const dir = await copyFixture('v1', path.join(root, 'cnn'));
  const started = await serve({
    models: [{ name: 'cnn', source: dir }],
    limits: { bodyBytes: 64 * 1024, instances: 8 },
    batching: { maxQueue: 16 },
  });
  server = started.server;
  port = Number(new URL(started.url).port);
}, 300_000);

afterAll(async () => {
  await server?.stop();
  await removeAll(root);
});

/** Sends raw bytes as one HTTP/1.1 request and returns the status code of the answer (0 if none). */
function raw(request: Buffer): Promise<number> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(), 10_000);
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      // The final answer: skip interim 1xx responses (e.g. 100 Continue).
      const codes = [
        ...Buffer.concat(chunks)
          .toString('latin1')
          .matchAll(/(?:^|\r\n)HTTP\/1\.[01] (\d{3})/g),
      ].map((m) => Number(m[1]));
      resolve(codes.find((c) => c >= 200) ?? 0);
    });
    socket.end(request);
  });
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(td) >>> 0);
  return Buffer.concat([len, td, crc]);
}
const ihdr = Buffer.alloc(13);
ihdr.writeUInt32BE(60_000, 0);
ihdr.writeUInt32BE(60_000, 4);
ihdr.set([8, 0, 0, 0, 0], 8);
const hugePng = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  chunk('IHDR', ihdr),
  chunk('IDAT', zlib.deflateSync(Buffer.alloc(4096))),
  chunk('IEND', Buffer.alloc(0)),
]).toString('base64');

const segment = fc.oneof(
  fc.constantFrom(
    'cnn',
    'CNN',
    'cnn.',
    '..',
    '.',
    '%2e%2e',
    '%00',
    '%2F',
    '%3Apredict',
    'a'.repeat(300),
    'ünïcode',
    '%E2%80%AE',
    'cnn;drop',
    '*',
    '~',
    '',
  ),
  fc.string({ maxLength: 12 }).map((s) => encodeURIComponent(s)),
);
const version = fc.oneof(
  fc.constantFrom('1', '0', '-1', '01', '1e3', '1.0', '99999999999999999999', 'latest', 'v1', ''),
  fc.integer().map(String),
);
const verb = fc.constantFrom(':predict', ':classify', ':regress', ':foo', '::predict', ':', '');
const pathArb = fc.oneof(
  fc.tuple(segment, verb).map(([m, v]) => `/v1/models/${m}${v}`),
  fc.tuple(segment, version, verb).map(([m, v, x]) => `/v1/models/${m}/versions/${v}${x}`),
  fc.tuple(segment, segment, verb).map(([m, l, x]) => `/v1/models/${m}/labels/${l}${x}`),
  fc.tuple(segment, version).map(([m, v]) => `/v1/models/${m}/versions/${v}/metadata`),
  fc
    .tuple(
      segment,
      fc.constantFrom('', '/ready', '/infer', '/versions/1/infer', '/versions/x/ready'),
    )
    .map(([m, s]) => `/v2/models/${m}${s}`),
  fc.constantFrom(
    '/v1/models/cnn:predict',
    '/v2/models/cnn/infer',
    '/v1/models/cnn:classify',
    '/v1/models/cnn/versions/1:predict',
  ),
  fc.constantFrom(
    '/',
    '/metrics',
    '/openapi.json',
    '/docs',
    '/v2',
    '/v2/health/ready',
    '//',
    '/%',
    '/%%',
    '/..%2f..%2fetc%2fpasswd',
    '/v1/models?x=1&x=2',
  ),
  fc.string({ maxLength: 40 }).map((s) => `/${encodeURIComponent(s)}`),
);
const method = fc.constantFrom(
  'GET',
  'POST',
  'POST',
  'POST',
  'PUT',
  'DELETE',
  'PATCH',
  'OPTIONS',
  'HEAD',
  'TRACE',
  'BREW',
  'get',
);
const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  'application/json; charset=latin1',
  'application/jsonx',
  '',
  '\u0000',
);
const pixel = fc.oneof(
  fc.double(),
  fc.constantFrom(Number.NaN, Infinity, 1e308, -0, 0.5),
  fc.string({ maxLength: 3 }),
  fc.constant(null),
  fc.boolean(),
);
const nestedWrong = fc.oneof(
  fc.array(fc.array(fc.array(pixel, { maxLength: 2 }), { maxLength: 30 }), { maxLength: 30 }),
  fc.array(pixel, { maxLength: 800 }),
  fc.constantFrom(
    Array.from({ length: 28 }, () => Array.from({ length: 28 }, () => ['x'])),
    Array.from({ length: 28 }, () => Array.from({ length: 27 }, () => [0])),
  ),
);
const b64 = fc.oneof(
  fc.constantFrom(
    '',
    '====',
    'not base64!',
    'iVBORw0KGgo=',
    '/9j/4AAQ',
    hugePng,
    goodPng.slice(0, 80),
    goodPng.replace(/A/g, 'B'),
  ),
  fc.base64String({ maxLength: 200 }),
);
const instance = fc.oneof(
  nestedWrong,
  b64.map((s) => ({ b64: s })),
  fc.record({ input: b64.map((s) => ({ b64: s })) }),
  fc.record({ other: fc.jsonValue() }),
  fc.jsonValue(),
);
const tensor = fc.record(
  {
    name: fc.oneof(fc.constantFrom('input', 'image', 'x'), fc.jsonValue()),
    shape: fc.oneof(
      fc.constantFrom(
        [1, 28, 28, 1],
        [1],
        [0, 28, 28, 1],
        [9, 28, 28, 1],
        [1, 784],
        [-1, 28, 28, 1],
        [1e12, 28, 28, 1],
        [2 ** 53, 1],
      ),
      fc.array(fc.integer(), { maxLength: 5 }),
      fc.jsonValue(),
    ),
    datatype: fc.oneof(
      fc.constantFrom('FP32', 'UINT8', 'BYTES', 'INT64', 'fp32', ''),
      fc.jsonValue(),
    ),
    data: fc.oneof(
      fc.array(pixel, { maxLength: 900 }),
      fc.array(b64, { maxLength: 3 }),
      fc.jsonValue(),
    ),
    parameters: fc.jsonValue(),
  },
  { requiredKeys: [] },
);
const jsonBody = fc
  .oneof(
    fc.record(
      {
        instances: fc.oneof(fc.array(instance, { maxLength: 12 }), fc.jsonValue()),
        signature_name: fc.oneof(fc.constant('serving_default'), fc.jsonValue()),
      },
      { requiredKeys: ['instances'] },
    ),
    fc.record({
      inputs: fc.oneof(
        fc.array(instance, { maxLength: 4 }),
        fc.record({ input: fc.jsonValue() }),
        fc.jsonValue(),
      ),
    }),
    fc.record(
      {
        examples: fc.oneof(fc.array(instance, { maxLength: 4 }), fc.jsonValue()),
        context: fc.jsonValue(),
        top_k: fc.jsonValue(),
      },
      { requiredKeys: ['examples'] },
    ),
    fc.record(
      {
        id: fc.jsonValue(),
        inputs: fc.oneof(fc.array(tensor, { maxLength: 3 }), fc.jsonValue()),
        outputs: fc.oneof(
          fc.array(fc.record({ name: fc.jsonValue(), parameters: fc.jsonValue() }), {
            maxLength: 3,
          }),
          fc.jsonValue(),
        ),
        parameters: fc.jsonValue(),
      },
      { requiredKeys: ['inputs'] },
    ),
    fc.jsonValue({ maxDepth: 4 }),
    fc.constantFrom(
      { __proto__: { polluted: true }, instances: [] },
      { constructor: { prototype: { polluted: 1 } } },
      { instances: [{ b64: 'A'.repeat(70_000) }] },
    ),
  )
  .map((v) => JSON.stringify(v) ?? 'null');
const brokenText = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.constantFrom(
    '{',
    '{"instances": [NaN]}',
    '{"instances": [Infinity]}',
    '[',
    'null',
    '',
    '{"a":' + '['.repeat(5000),
    '\u0000\u0001',
    '{"instances": [1,]}',
    '{"__proto__": {"x": 1}}',
  ),
  jsonBody.map((s) => s.slice(0, Math.max(0, s.length - 3))),
);
const body = fc.oneof(jsonBody, jsonBody, brokenText);
const header = fc.oneof(
  fc.constantFrom(
    'x-request-timeout-ms: 0',
    'x-request-timeout-ms: -5',
    'x-request-timeout-ms: 99999999999999',
    'x-request-timeout-ms: abc',
    'accept: */*',
    'origin: http://evil.example',
    'transfer-encoding: chunked',
    'expect: 100-continue',
    'content-encoding: gzip',
    'x-model-version: 9',
  ),
  fc
    .tuple(fc.stringMatching(/^[a-z-]{1,20}$/), fc.string({ maxLength: 30 }))
    .map(([k, v]) => `${k}: ${v.replace(/[\r\n]/g, '')}`),
);

describe('hostile requests (property)', () => {
  it('answers 2,000+ malformed or hostile requests with 4xx or 503 (or 200 for a valid one); never another 5xx; stays up with bounded memory', async () => {
    const heapBefore = process.memoryUsage().heapUsed;
    let runs = 0;
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(
        method,
        pathArb,
        contentType,
        body,
        fc.array(header, { maxLength: 3 }),
        async (m, p, ct, b, hs) => {
          runs++;
          const bytes = Buffer.from(b, 'utf8');
          const head = [
            `${m} ${p} HTTP/1.1`,
            'host: 127.0.0.1',
            ...(ct ? [`content-type: ${ct}`] : []),
            ...hs.filter((h) => !/^(transfer-encoding|content-length)/i.test(h)),
            `content-length: ${bytes.length}`,
            'connection: close',
            '',
            '',
          ].join('\r\n');
          const status = await raw(Buffer.concat([Buffer.from(head, 'latin1'), bytes]));
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          expect(status).toBeGreaterThanOrEqual(200);
          expect(
            status < 500 || status === 503,
            `${m} ${p} ${ct} ${b.slice(0, 200)} -> ${status}`,
          ).toBe(true);
          // A model request with a malformed body is never answered 200.
          if (
            m === 'POST' &&
            /(:predict|:classify|\/infer)$/.test(p) &&
            b.startsWith('{') &&
            !b.includes('"input')
          )
            expect(status).not.toBe(200);
        },
      ),
      { numRuns: 2_000, seed: 20261127 },
    );
    expect(runs).toBeGreaterThanOrEqual(2_000);
    expect([...statuses.keys()].every((s) => (s >= 200 && s < 500) || s === 503)).toBe(true);
    // Still up and still right.
    expect((await call(`http://127.0.0.1:${port}/v2/health/live`)).status).toBe(200);
    const ok = await call(`http://127.0.0.1:${port}/v1/models/cnn:predict`, {
      method: 'POST',
      body: JSON.stringify({ instances: [{ b64: goodPng }] }),
    });
    expect(ok.status).toBe(200);
    // Bounded memory: nothing of 2,000 requests is retained.
    global.gc?.();
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(150 * 1024 * 1024);
    expect(server.status()[0]?.versions).toEqual([{ version: 1, state: 'AVAILABLE', labels: [] }]);
  }, 240_000);

  it('raw garbage on the socket gets a 4xx (or is served as HTTP/0.9), never a 5xx or a crash', async () => {
    for (const junk of [
      '\u0000\u0001\u0002',
      'GET / HTTP/9.9\r\n\r\n',
      'GET /\r\n\r\n',
      `GET /${'a'.repeat(100_000)} HTTP/1.1\r\nhost: x\r\n\r\n`,
      'POST /v2/models/cnn/infer HTTP/1.1\r\nhost: x\r\ncontent-length: 10\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n',
    ]) {
      const status = await raw(Buffer.from(junk, 'latin1'));
      expect(
        status === 0 || (status >= 200 && status < 500),
        `${JSON.stringify(junk.slice(0, 40))} -> ${status}`,
      ).toBe(true);
    }
    expect((await call(`http://127.0.0.1:${port}/v2/health/live`)).status).toBe(200);
  }, 240_000);
});
