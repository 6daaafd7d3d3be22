// `mlship serve` as a user runs it: the built bin in a child process on 127.0.0.1 serving a model
// directory saved by @mlship/model, asked over HTTP (v2 ready, TF Serving :predict), then stopped
// with SIGTERM the way a container runtime or Kubernetes stops it.
import path from 'node:path';
import { buildModel, defaultCnnSpec, predict, saveModelDir } from '@mlship/model';
import type { ModelMeta } from '@mlship/model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMlship, tempDir } from './helpers';
import type { RunningMlship } from './helpers';

const LABELS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/** A deterministic test digit: a vertical bar, raw pixels 0..255, 28 x 28 x 1. */
const digit = Array.from({ length: 28 }, (_, y) =>
  Array.from({ length: 28 }, (_, x) => (x >= 12 && x <= 15 && y >= 4 && y <= 23 ? 255 : 0)),
);

describe('mlship serve', () => {
  let tmp: { dir: string; remove: () => Promise<void> };
  let meta: ModelMeta;
  /** The probability of every label for `digit`, from @mlship/model's predict in this process. */
  let expected: Map<string, number>;
  let server: RunningMlship | undefined;

  beforeAll(async () => {
    tmp = await tempDir('serve');
    // An untrained, seeded model A: serving does not care how good it is, and the probabilities
    // it gives are still specific to these weights (not uniform: the bar is not a blank image).
    const model = buildModel(defaultCnnSpec(), { seed: 3 });
    try {
      ({ meta } = await saveModelDir(model, path.join(tmp.dir, 'models', 'cnn'), {
        labels: LABELS,
      }));
      const [p] = await predict(
        model,
        { images: new Uint8Array(digit.flat()), shape: [1, 28, 28, 1] },
        { meta, topK: LABELS.length },
      );
      expected = new Map(p?.topK.map((c) => [c.label, c.probability]));
    } finally {
      model.dispose();
    }
  });
  afterAll(async () => {
    if (server !== undefined && server.child.exitCode === null && server.child.signalCode === null)
      server.child.kill('SIGKILL');
    await tmp?.remove();
  });

  it('serves a model directory on 127.0.0.1: ready, :predict equal to predict(), then SIGTERM drains and exits 0', async () => {
    server = startMlship(['serve', '--model', 'cnn=models/cnn', '--port', '0', '--json'], {
      cwd: tmp.dir,
    });
    const [, url] = await server.waitForStderr(
      /serving cnn \(versions 1\) at (http:\/\/127\.0\.0\.1:\d+)\n/,
      90_000,
    );

    const ready = await fetch(`${url}/v2/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true });

    const res = await fetch(`${url}/v1/models/cnn:predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        instances: [digit.map((row) => row.map((p) => [p * meta.input.scale + meta.input.offset]))],
      }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-model-version')).toBe('1');
    const body = (await res.json()) as { predictions: number[][]; model_version: string };
    expect(body.model_version).toBe('1');
    expect(body.predictions).toHaveLength(1);
    const served = body.predictions[0] ?? [];
    expect(served).toHaveLength(LABELS.length);
    // The same weights on the same backend: the served probabilities are predict()'s.
    for (const [i, label] of LABELS.entries())
      expect(Math.abs((served[i] ?? NaN) - (expected.get(label) ?? NaN))).toBeLessThan(1e-5);
    expect(new Set(served.map((p) => p.toFixed(4))).size).toBeGreaterThan(1);

    server.child.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    // --json: one document on stdout once stopped, naming where it served and what.
    const result = JSON.parse(server.stdout()) as {
      url: string;
      models: { name: string; defaultVersion: number; ready: boolean }[];
    };
    expect(result.url).toBe(url);
    expect(result.models).toMatchObject([{ name: 'cnn', defaultVersion: 1, ready: true }]);
    // Nothing listens there any more.
    await expect(fetch(`${url}/v2/health/live`)).rejects.toThrow();
  }, 150_000);
});
