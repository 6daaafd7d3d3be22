import type { ImageDataset } from '@mlship/data';

/** One v2 `infer` answer: the predicted class per image, the top probability, the version. */
export interface InferAnswer {
  labels: number[];
  confidences: number[];
  version: number;
}

/**
 * Sends images [start, start + count) to the server's Open Inference Protocol v2 route as raw
 * UINT8 pixels (the server scales them per mlship.json) and reads the probabilities back.
 */
export async function infer(
  url: string,
  ds: ImageDataset,
  start: number,
  count: number,
): Promise<InferAnswer> {
  const [, h, w, c] = ds.shape;
  const size = h * w * c;
  const res = await fetch(`${url}/v2/models/cnn/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      inputs: [
        {
          name: 'input',
          shape: [count, h, w, c],
          datatype: 'UINT8',
          data: Array.from(ds.images.subarray(start * size, (start + count) * size)),
        },
      ],
      outputs: [{ name: 'probabilities' }],
    }),
  });
  if (res.status !== 200) throw new Error(`infer answered HTTP ${res.status}: ${await res.text()}`);
  const body = (await res.json()) as {
    model_version: string;
    outputs: { data: number[]; shape: number[] }[];
  };
  const probs = body.outputs[0]!.data;
  const classes = body.outputs[0]!.shape[1]!;
  const labels: number[] = [];
  const confidences: number[] = [];
  for (let i = 0; i < count; i++) {
    let best = 0;
    for (let k = 1; k < classes; k++)
      if (probs[i * classes + k]! > probs[i * classes + best]!) best = k;
    labels.push(best);
    confidences.push(probs[i * classes + best]!);
  }
  return { labels, confidences, version: Number(body.model_version) };
}

/** The top-class probability of every image, asked of the server in batches of 200. */
export async function servedConfidences(
  url: string,
  ds: ImageDataset,
): Promise<{ confidences: number[]; version: number }> {
  const out: number[] = [];
  let version = 0;
  for (let i = 0; i < ds.shape[0]; i += 200) {
    const a = await infer(url, ds, i, Math.min(200, ds.shape[0] - i));
    out.push(...a.confidences);
    version = a.version;
  }
  return { confidences: out, version };
}

/** What a {@link startLoad} run saw. */
export interface LoadReport {
  requests: number;
  failed: number;
  /** Requests answered by each version. */
  byVersion: Record<string, number>;
  /** Failures, first 5 (status or error message). */
  errors: string[];
}

/**
 * Keeps `concurrency` clients sending single-image predictions until `stop()` (bounded: at most
 * `maxRequests` and `maxSeconds`, so it always stops by itself). Every answer that is not HTTP 200
 * with a version is a failure.
 */
export function startLoad(
  url: string,
  ds: ImageDataset,
  options: { concurrency: number; maxRequests: number; maxSeconds: number },
): {
  stop: () => Promise<LoadReport>;
  report: LoadReport;
  firstAnswerFrom: (version: number) => Promise<void>;
} {
  const report: LoadReport = { requests: 0, failed: 0, byVersion: {}, errors: [] };
  const deadline = Date.now() + options.maxSeconds * 1000;
  let stopped = false;
  const waiters: { version: number; resolve: () => void }[] = [];
  const client = async (k: number): Promise<void> => {
    let i = k;
    while (!stopped && report.requests < options.maxRequests && Date.now() < deadline) {
      report.requests++;
      try {
        const a = await infer(url, ds, i % ds.shape[0], 1);
        report.byVersion[a.version] = (report.byVersion[a.version] ?? 0) + 1;
        for (const w of waiters.filter((x) => x.version === a.version)) w.resolve();
      } catch (e) {
        report.failed++;
        if (report.errors.length < 5)
          report.errors.push(e instanceof Error ? e.message : String(e));
      }
      i += options.concurrency;
    }
  };
  const clients = Array.from({ length: options.concurrency }, (_, k) => client(k));
  return {
    report,
    firstAnswerFrom: (version) =>
      report.byVersion[version]
        ? Promise.resolve()
        : new Promise((resolve) => waiters.push({ version, resolve })),
    stop: async () => {
      stopped = true;
      await Promise.all(clients);
      return report;
    },
  };
}
