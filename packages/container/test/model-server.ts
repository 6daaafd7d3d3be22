// What the tests that run the model-server image share: a model saved by @mlship/model, a test
// digit, the prediction the same weights give on this machine, and polling until a server answers.
import { buildModel, defaultCnnSpec, predict, saveModelDir } from '@mlship/model';
import { expect } from 'vitest';

/** A deterministic test digit: a vertical bar, raw pixels 0..255, as [28][28][1]. */
export const digit = Array.from({ length: 28 }, (_, y) =>
  Array.from({ length: 28 }, (_, x) => [x >= 12 && x <= 15 && y >= 4 && y <= 23 ? 255 : 0]),
);

/** The TF Serving `:predict` body for {@link digit} (pixels scaled to 0..1). */
export const digitRequest = JSON.stringify({
  instances: [digit.map((row) => row.map(([p]) => [(p as number) / 255]))],
});

/** Saves the default CNN with weights from `seed` (untrained) as a model directory at `dir`. */
export async function saveModel(dir: string, seed: number): Promise<string> {
  const model = buildModel(defaultCnnSpec(), { seed });
  await saveModelDir(model, dir, {
    labels: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    datasets: {
      train: { fingerprint: `sha256:${String(seed).repeat(64).slice(0, 64)}`, count: 0 },
    },
  });
  model.dispose();
  return dir;
}

/** The top label and its probability that the `seed` model gives {@link digit} here. */
export async function expectedTop(seed: number): Promise<{ label: string; probability: number }> {
  const local = buildModel(defaultCnnSpec(), { seed });
  const [expected] = await predict(
    local,
    { images: new Uint8Array(digit.flat(2)), shape: [1, 28, 28, 1] },
    { topK: 10 },
  );
  local.dispose();
  if (expected === undefined) throw new Error('predict returned no result');
  return { label: expected.label, probability: expected.probability };
}

/** Polls `f` every 250 ms until it returns a value, or fails after `ms` naming `what`. */
export async function waitFor<T>(
  what: string,
  ms: number,
  f: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Waits (up to 90 s) for the model server at `url` to be ready, then asks a TF Serving `:predict`
 * for {@link digit} and expects the probabilities the `seed` model gives here. `log` supplies the
 * server's log for the error when it never gets ready.
 */
export async function expectServesModel(
  url: string,
  seed: number,
  log: () => Promise<string>,
): Promise<void> {
  const ready = await waitFor('the server to be ready', 90_000, async () => {
    const res = await fetch(`${url}/v2/health/ready`);
    return res.status === 200 ? ((await res.json()) as { ready: boolean }) : undefined;
  }).catch(async (e: unknown) => {
    throw new Error(`${String(e)}; server log:\n${(await log().catch(String)).slice(-3000)}`);
  });
  expect(ready.ready).toBe(true);
  const res = await fetch(`${url}/v1/models/cnn:predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: digitRequest,
  });
  expect(res.status).toBe(200);
  const served = ((await res.json()) as { predictions: number[][] }).predictions[0] ?? [];
  expect(served).toHaveLength(10);
  // The same model version on this machine gives the same probabilities.
  const expected = await expectedTop(seed);
  const top = served.indexOf(Math.max(...served));
  expect(String(top)).toBe(expected.label);
  expect(served[top]).toBeCloseTo(expected.probability, 4);
}
