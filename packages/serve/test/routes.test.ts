/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-argument -- HTTP response bodies are untyped JSON; every one is checked by the assertions */
import path from 'node:path';
import { loadModelDir, predict } from '@mlship/model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MlshipServer } from '../src/index';
import {
  call,
  copyFixture,
  digit,
  mnistTest,
  nested,
  pngOf,
  post,
  removeAll,
  serve,
  tempDir,
} from './helpers';

let root: string;
let server: MlshipServer;
let url: string;
let expected: { label: string; topK: { label: string; probability: number }[] }[];
let expectedProbs: number[][];

beforeAll(async () => {
  root = await tempDir('routes');
  const dir = await copyFixture('v1', path.join(root, 'cnn'));
  ({ server, url } = await serve({ models: [{ name: 'cnn', source: dir }] }));
  // The reference: @mlship/model's predict on the same model and images, in this process.
  const { model, meta } = await loadModelDir(dir);
  const ds = await mnistTest();
  const images = (ds.images as Uint8Array).slice(0, 8 * 784);
  expected = await predict(model, { images, shape: [8, 28, 28, 1] }, { meta, topK: 10 });
  expectedProbs = expected.map((p) => {
    const row = new Array<number>(10).fill(0);
    for (const t of p.topK) row[Number(t.label)] = t.probability;
    return row;
  });
  model.dispose();
}, 300_000);

afterAll(async () => {
  await server?.stop();
  await removeAll(root);
});

function close(a: number[][], b: number[][], tol = 1e-5): void {
  expect(a.length).toBe(b.length);
  a.forEach((row, i) =>
    row.forEach((v, j) => expect(Math.abs(v - (b[i]?.[j] as number))).toBeLessThan(tol)),
  );
}

describe('TF Serving REST', () => {
  it('GET /v1/models/{m} reports every version in GetModelStatusResponse form', async () => {
    const r = await call(`${url}/v1/models/cnn`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      model_version_status: [
        { version: '1', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } },
      ],
    });
  }, 120_000);

  it('GET /v1/models/{m}/versions/{v} reports that version; an unknown version is 404', async () => {
    expect(
      (await call(`${url}/v1/models/cnn/versions/1`)).body.model_version_status[0].version,
    ).toBe('1');
    const r = await call(`${url}/v1/models/cnn/versions/7`);
    expect(r.status).toBe(404);
    expect(r.body.error).toMatch(/Model cnn has no version "7" \(serving: 1\)/);
  }, 120_000);

  it('GET .../metadata builds the serving_default signature from mlship.json', async () => {
    const r = await call(`${url}/v1/models/cnn/metadata`);
    expect(r.status).toBe(200);
    expect(r.headers.get('x-model-version')).toBe('1');
    expect(r.body.model_spec).toEqual({ name: 'cnn', signature_name: '', version: '1' });
    const sig = r.body.metadata.signature_def.signature_def.serving_default;
    expect(sig.method_name).toBe('tensorflow/serving/predict');
    expect(sig.inputs.input.dtype).toBe('DT_FLOAT');
    expect(sig.inputs.input.tensor_shape.dim.map((d: { size: string }) => d.size)).toEqual([
      '-1',
      '28',
      '28',
      '1',
    ]);
    expect(sig.outputs.probabilities.tensor_shape.dim.map((d: { size: string }) => d.size)).toEqual(
      ['-1', '10'],
    );
    expect(r.body.mlship.labels).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(r.body.mlship.input.scale).toBeCloseTo(1 / 255);
  }, 120_000);

  it(':predict with instances (row format) answers predictions equal to @mlship/model predict', async () => {
    const instances = await Promise.all([0, 1, 2, 3].map((i) => nested(i)));
    const r = await post(`${url}/v1/models/cnn:predict`, { instances });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-model-version')).toBe('1');
    expect(r.body.model_version).toBe('1');
    close(r.body.predictions, expectedProbs.slice(0, 4));
  }, 120_000);

  it(':predict with inputs (columnar) answers outputs; versions/{v} and b64 PNG images work too', async () => {
    const inputs = await Promise.all([4, 5].map((i) => nested(i)));
    const r = await post(`${url}/v1/models/cnn/versions/1:predict`, {
      signature_name: 'serving_default',
      inputs,
    });
    expect(r.status).toBe(200);
    close(r.body.outputs, expectedProbs.slice(4, 6));
    const b64 = pngOf(await digit(6)).toString('base64');
    const r2 = await post(`${url}/v1/models/cnn:predict`, {
      instances: [{ b64 }, { input: { b64: pngOf(await digit(7)).toString('base64') } }],
    });
    expect(r2.status).toBe(200);
    close(r2.body.predictions, expectedProbs.slice(6, 8));
  }, 120_000);

  it(':classify returns labels with scores, best first, equal to predict', async () => {
    const r = await post(`${url}/v1/models/cnn:classify`, {
      examples: [
        { input: await nested(0) },
        { input: { b64: pngOf(await digit(1)).toString('base64') } },
      ],
    });
    expect(r.status).toBe(200);
    expect(r.body.result).toHaveLength(2);
    for (const [i, res] of (r.body.result as [string, number][][]).entries()) {
      expect(res).toHaveLength(10);
      expect(res[0]?.[0]).toBe(expected[i]?.label);
      for (const [j, [label, score]] of res.entries()) {
        expect(label).toBe(expected[i]?.topK[j]?.label);
        expect(Math.abs(score - (expected[i]?.topK[j]?.probability as number))).toBeLessThan(1e-5);
      }
    }
    const top2 = await post(`${url}/v1/models/cnn:classify`, {
      examples: [{ input: await nested(0) }],
      top_k: 2,
    });
    expect(top2.body.result[0]).toHaveLength(2);
  }, 120_000);

  it('answers the TF Serving documentation error shape for an unknown model, a bad body and :regress', async () => {
    const unknown = await post(`${url}/v1/models/half:predict`, { instances: [1.0, 5.0] });
    expect(unknown.status).toBe(404);
    expect(Object.keys(unknown.body)).toEqual(['error']);
    expect(unknown.body.error).toMatch(/Model "half" not found/);
    const wrongShape = await post(`${url}/v1/models/cnn:predict`, { instances: [1.0, 5.0] });
    expect(wrongShape.status).toBe(400);
    expect(wrongShape.body.error).toMatch(
      /instances\[0\]: expected a list of 28 \(each instance has shape \[28, 28, 1\]\), got number 1/,
    );
    const both = await post(`${url}/v1/models/cnn:predict`, { instances: [], inputs: [] });
    expect(both.status).toBe(400);
    expect(both.body.error).toMatch(/exactly one of "instances"/);
    const regress = await post(`${url}/v1/models/cnn:regress`, { examples: [{ x: 1 }] });
    expect(regress.status).toBe(400);
    expect(regress.body.error).toMatch(/regress is not supported/);
    const label = await call(`${url}/v1/models/cnn/labels/production`);
    expect(label.status).toBe(404);
    expect(label.body.error).toMatch(/no label "production"/);
  }, 120_000);

  it('accepts the JSON body of `curl -d` (form content type), as TF Serving does', async () => {
    const r = await call(`${url}/v1/models/cnn:predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: JSON.stringify({ instances: [await nested(0)] }),
    });
    expect(r.status).toBe(200);
    close(r.body.predictions, expectedProbs.slice(0, 1));
  }, 120_000);

  it('GET /v1/models lists the models (mlship extension)', async () => {
    const r = await call(`${url}/v1/models`);
    expect(r.body.models).toEqual([
      {
        name: 'cnn',
        default_version: '1',
        versions: [{ version: '1', state: 'AVAILABLE', labels: [] }],
        labels: {},
        classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
      },
    ]);
  }, 120_000);
});

describe('Open Inference Protocol v2', () => {
  it('health, server metadata, model metadata and readiness', async () => {
    expect((await call(`${url}/v2/health/live`)).body).toEqual({ live: true });
    const ready = await call(`${url}/v2/health/ready`);
    expect([ready.status, ready.body]).toEqual([200, { ready: true }]);
    const server = await call(`${url}/v2`);
    expect(server.body.name).toBe('mlship');
    expect(server.body.extensions).toEqual([]);
    const meta = await call(`${url}/v2/models/cnn`);
    expect(meta.body).toMatchObject({
      name: 'cnn',
      versions: ['1'],
      platform: 'tensorflowjs',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 28, 28, 1] }],
    });
    expect(meta.body.outputs.map((o: { name: string }) => o.name)).toEqual([
      'probabilities',
      'label',
      'top_k_labels',
      'top_k_probabilities',
    ]);
    expect((await call(`${url}/v2/models/cnn/versions/1`)).status).toBe(200);
    expect((await call(`${url}/v2/models/cnn/ready`)).body).toEqual({ name: 'cnn', ready: true });
    expect((await call(`${url}/v2/models/cnn/versions/1/ready`)).body).toEqual({
      name: 'cnn',
      ready: true,
    });
    expect((await call(`${url}/v2/models/nope/ready`)).status).toBe(404);
  }, 120_000);

  it('infer with FP32 data echoes the id and parameters and honours requested outputs', async () => {
    const x = (await Promise.all([0, 1].map((i) => nested(i)))).flat(3);
    const r = await post(`${url}/v2/models/cnn/infer`, {
      id: '42',
      parameters: { top_k: 2, trace: 'abc' },
      inputs: [{ name: 'input', shape: [2, 28, 28, 1], datatype: 'FP32', data: x }],
      outputs: [
        { name: 'probabilities' },
        { name: 'top_k_labels' },
        { name: 'label', parameters: { note: 1 } },
      ],
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-model-version')).toBe('1');
    expect(r.body).toMatchObject({
      model_name: 'cnn',
      model_version: '1',
      id: '42',
      parameters: { top_k: 2, trace: 'abc' },
    });
    const [probs, topLabels, label] = r.body.outputs;
    expect(probs).toMatchObject({ name: 'probabilities', shape: [2, 10], datatype: 'FP32' });
    close([probs.data.slice(0, 10), probs.data.slice(10)], expectedProbs.slice(0, 2));
    expect(topLabels).toEqual({
      name: 'top_k_labels',
      shape: [2, 2],
      datatype: 'BYTES',
      data: [
        expected[0]?.topK[0]?.label,
        expected[0]?.topK[1]?.label,
        expected[1]?.topK[0]?.label,
        expected[1]?.topK[1]?.label,
      ],
    });
    expect(label).toEqual({
      name: 'label',
      shape: [2],
      datatype: 'BYTES',
      data: [expected[0]?.label, expected[1]?.label],
      parameters: { note: 1 },
    });
  }, 120_000);

  it('infer with UINT8 raw pixels (scaled per mlship.json) and BYTES PNGs gives the same probabilities', async () => {
    const raw = Array.from(await digit(3));
    const u8 = await post(`${url}/v2/models/cnn/versions/1/infer`, {
      inputs: [{ name: 'input', shape: [1, 28, 28, 1], datatype: 'UINT8', data: raw }],
      outputs: [{ name: 'probabilities' }],
    });
    expect(u8.status).toBe(200);
    close([u8.body.outputs[0].data], expectedProbs.slice(3, 4));
    const bytes = await post(`${url}/v2/models/cnn/infer`, {
      inputs: [
        {
          name: 'input',
          shape: [1],
          datatype: 'BYTES',
          data: [pngOf(await digit(3)).toString('base64')],
        },
      ],
    });
    expect(bytes.status).toBe(200);
    expect(bytes.body.outputs.map((o: { name: string }) => o.name)).toEqual([
      'probabilities',
      'label',
      'top_k_labels',
      'top_k_probabilities',
    ]);
    close([bytes.body.outputs[0].data], expectedProbs.slice(3, 4));
    expect(bytes.body.outputs[3].shape).toEqual([1, 3]);
  }, 120_000);

  it('names the field and the expected shape or type of a bad tensor', async () => {
    const cases: [unknown, RegExp][] = [
      [
        { name: 'input', shape: [1, 784], datatype: 'FP32', data: new Array(784).fill(0) },
        /inputs\[0\]\.shape: expected \[n, 28, 28, 1\], got \[1, 784\]/,
      ],
      [
        { name: 'input', shape: [1, 28, 28, 1], datatype: 'INT64', data: [] },
        /inputs\[0\]\.datatype: expected FP32/,
      ],
      [
        { name: 'input', shape: [1, 28, 28, 1], datatype: 'UINT8', data: new Array(784).fill(300) },
        /inputs\[0\]\.data\[0\]: expected an integer 0\.\.255/,
      ],
      [
        { name: 'input', shape: [1, 28, 28, 1], datatype: 'FP32', data: new Array(783).fill(0) },
        /inputs\[0\]\.data: expected 784 values/,
      ],
      [
        { name: 'x', shape: [1, 28, 28, 1], datatype: 'FP32', data: [] },
        /inputs\[0\]\.name: expected "input"/,
      ],
      [
        { name: 'input', shape: [1], datatype: 'BYTES', data: ['bm90IGFuIGltYWdl'] },
        /inputs\[0\]\.data\[0\]: cannot decode the image: not a PNG or JPEG/,
      ],
    ];
    for (const [tensor, message] of cases) {
      const r = await post(`${url}/v2/models/cnn/infer`, { inputs: [tensor] });
      expect(r.status, JSON.stringify(r.body)).toBe(400);
      expect(r.body.error).toMatch(message);
    }
    const out = await post(`${url}/v2/models/cnn/infer`, {
      inputs: [
        { name: 'input', shape: [1, 28, 28, 1], datatype: 'FP32', data: new Array(784).fill(0) },
      ],
      outputs: [{ name: 'logits' }],
    });
    expect(out.body.error).toMatch(
      /outputs\[0\]\.name: expected one of probabilities, label, top_k_labels, top_k_probabilities/,
    );
  }, 120_000);
});

describe('operations', () => {
  it('/metrics exposes requests by model, version, route and status, latency and batch-size histograms, queue depth and loaded versions', async () => {
    await post(`${url}/v1/models/cnn:predict`, { instances: [await nested(0)] });
    const r = await call(`${url}/metrics`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/text\/plain/);
    const text = r.body as string;
    expect(text).toMatch(
      /mlship_requests_total\{model="cnn",version="1",route="tfs_predict",status="200"\} \d+/,
    );
    expect(text).toMatch(
      /mlship_requests_total\{model="",version="",route="not_found",status="404"\}|mlship_requests_total\{model="",version="",route="tfs_predict",status="404"\}/,
    );
    expect(text).toMatch(
      /mlship_request_duration_seconds_bucket\{le="0.1",model="cnn",route="tfs_predict"\}/,
    );
    expect(text).toMatch(/mlship_batch_size_count\{model="cnn",version="1"\} \d+/);
    expect(text).toMatch(/mlship_queue_depth\{model="cnn",version="1"\} 0/);
    expect(text).toMatch(
      /mlship_model_versions_loaded\{model="cnn",version="1",state="AVAILABLE"\} 1/,
    );
  }, 120_000);

  it('/openapi.json describes every route and /docs serves the docs page', async () => {
    const r = await call(`${url}/openapi.json`);
    expect(r.status).toBe(200);
    expect(r.body.openapi).toBe('3.0.3');
    const paths = Object.keys(r.body.paths);
    for (const p of [
      '/v1/models/{model}',
      '/v1/models/{model}/metadata',
      '/v2/health/ready',
      '/v2/models/{model}/infer',
      '/metrics',
    ])
      expect(paths).toContain(p);
    expect(paths.some((p) => p.endsWith(':predict'))).toBe(true);
    const docs = await call(`${url}/docs`);
    expect(docs.status).toBe(200);
    expect(String(docs.body)).toMatch(/swagger/i);
  }, 120_000);
});
