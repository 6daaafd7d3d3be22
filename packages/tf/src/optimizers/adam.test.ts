import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoWasmLeak, initBackends, maxErr, seeded } from '../kernels/test-utils';
import { FusedAdamOptimizer } from './adam';

// A dense head's weights (multiples of 4 for the SIMD loop) and shapes with a remainder.
const SHAPES = [[40, 32], [32], [3, 3, 1, 5], [7], [32, 10], [10]];
const STEPS = 25;
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

interface Run {
  values: Float32Array[];
  optimizer: tf.Optimizer;
  vars: tf.Variable[];
}

/** `steps` steps of `make()` on `backend` from fixed weights and gradients (seeded). */
async function run(
  backend: 'cpu' | 'wasm',
  make: () => tf.Optimizer,
  steps = STEPS,
  from?: { vars: Float32Array[]; weights: { name: string; tensor: tf.Tensor }[] },
  firstStep = 0,
): Promise<Run> {
  await tf.setBackend(backend);
  const optimizer = make();
  const vars = SHAPES.map((s, i) =>
    tf.variable(tf.tensor(from?.vars[i] ?? seeded(size(s), 100 + i), s)),
  );
  if (from && from.weights.length > 0) await optimizer.setWeights(from.weights);
  for (let step = firstStep; step < firstStep + steps; step++) {
    tf.tidy(() =>
      optimizer.applyGradients(
        vars.map((v, i) => ({
          name: v.name,
          // Gradients of varied size, some exactly 0 (v stays 0 there: sqrt(0) + eps).
          tensor: tf.tensor(
            seeded(size(SHAPES[i]!), 1000 * step + i).map((g, j) =>
              j % 5 === 0 ? 0 : g * (1 + step),
            ),
            SHAPES[i],
          ),
        })),
      ),
    );
  }
  return { values: vars.map((v) => v.dataSync() as Float32Array), optimizer, vars };
}

function release(r: Run): void {
  r.optimizer.dispose();
  tf.dispose(r.vars);
}

const TOL = 'max|fused - stock| <= 1e-5 * max|stock| + 1e-6';
const bound = (scale: number) => 1e-5 * scale + 1e-6;

describe('FusedAdamOptimizer', () => {
  beforeAll(initBackends);

  it(`on wasm matches tf.train.adam on cpu over ${STEPS} steps for every shape: ${TOL}`, async () => {
    const ref = await run('cpu', () => tf.train.adam(0.01));
    const got = await run('wasm', () => new FusedAdamOptimizer(0.01));
    SHAPES.forEach((s, i) => {
      const { err, scale } = maxErr(got.values[i]!, ref.values[i]!);
      expect(err, `variable ${i} ${JSON.stringify(s)}`).toBeLessThanOrEqual(bound(scale));
      // It moved: the comparison is not between two untouched copies.
      expect(maxErr(got.values[i]!, seeded(size(s), 100 + i)).err).toBeGreaterThan(0.01);
    });
    release(ref);
    release(got);
  });

  it('on wasm runs one fused kernel per variable, none of the stock Adam kernels', async () => {
    await tf.setBackend('wasm');
    const optimizer = new FusedAdamOptimizer(0.01);
    const vars = SHAPES.map((s, i) => tf.variable(tf.tensor(seeded(size(s), 100 + i), s)));
    const grads = vars.map((v) => ({ name: v.name, tensor: tf.onesLike(v) }));
    const profile = await tf.profile(() => optimizer.applyGradients(grads));
    const names = profile.kernels.map((k) => k.name);
    expect(names.filter((n) => n === 'MlshipAdamUpdate')).toHaveLength(SHAPES.length);
    expect(names).not.toContain('Sqrt');
    optimizer.dispose();
    tf.dispose([...vars, ...grads.map((g) => g.tensor)]);
  });

  it('on cpu is the stock optimizer, bit for bit', async () => {
    const ref = await run('cpu', () => tf.train.adam(0.01));
    const got = await run('cpu', () => new FusedAdamOptimizer(0.01));
    SHAPES.forEach((_, i) => expect(got.values[i]).toEqual(ref.values[i]));
    release(ref);
    release(got);
  });

  it('getWeights / setWeights resume a run where it stopped, and it serializes as Adam', async () => {
    const whole = await run('wasm', () => new FusedAdamOptimizer(0.01), 10);
    const first = await run('wasm', () => new FusedAdamOptimizer(0.01), 6);
    const weights = await first.optimizer.getWeights();
    expect(weights.map((w) => w.name).slice(1, 3)).toEqual([
      `${first.vars[0]!.name}/m`,
      `${first.vars[1]!.name}/m`,
    ]);
    const resumed = await run(
      'wasm',
      () => new FusedAdamOptimizer(0.01),
      4,
      { vars: first.values, weights },
      6,
    );
    SHAPES.forEach((_, i) => {
      const { err, scale } = maxErr(resumed.values[i]!, whole.values[i]!);
      expect(err).toBeLessThanOrEqual(bound(scale));
    });
    expect(FusedAdamOptimizer.className).toBe('Adam');
    expect(new FusedAdamOptimizer(0.02).getConfig()).toMatchObject({
      learningRate: 0.02,
      beta1: 0.9,
      beta2: 0.999,
    });
    for (const r of [whole, first, resumed]) release(r);
  });

  it('continues on cpu (the stock path) where fused steps on wasm left off', async () => {
    const ref = await run('cpu', () => tf.train.adam(0.01), 10);
    const optimizer = new FusedAdamOptimizer(0.01);
    const first = await run('wasm', () => optimizer, 5);
    const rest = await run('cpu', () => optimizer, 5, { vars: first.values, weights: [] }, 5);
    SHAPES.forEach((_, i) => {
      const { err, scale } = maxErr(rest.values[i]!, ref.values[i]!);
      expect(err, `variable ${i}`).toBeLessThanOrEqual(bound(scale));
    });
    for (const r of [ref, first, rest]) tf.dispose(r.vars);
    optimizer.dispose();
  });

  it('leaks no tensors or wasm buffers per step', async () => {
    await tf.setBackend('wasm');
    const optimizer = new FusedAdamOptimizer(0.01);
    const vars = SHAPES.map((s, i) => tf.variable(tf.tensor(seeded(size(s), 100 + i), s)));
    const step = () =>
      tf.tidy(() =>
        optimizer.applyGradients(vars.map((v) => ({ name: v.name, tensor: tf.onesLike(v) }))),
      );
    step(); // creates the moments
    expectNoWasmLeak(step);
    optimizer.dispose();
    tf.dispose(vars);
  });
});
