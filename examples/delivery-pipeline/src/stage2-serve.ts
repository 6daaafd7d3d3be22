import { createServer, silentLogger } from '@mlship/serve';
import type { MlshipServer } from '@mlship/serve';
import type { ImageDataset } from '@mlship/data';
import { infer } from './load';
import type { Run } from './run';

/**
 * Stage 2: serve `cnn#production` from the registry on 127.0.0.1 (a free port), watching the stage
 * so a move is picked up, and send it real predictions.
 */
export async function startServing(
  run: Run,
  test: ImageDataset,
): Promise<{ server: MlshipServer; url: string; correct: number; sent: number }> {
  const server = await createServer({
    models: [{ name: 'cnn', source: { registry: run.dirs.registry, ref: 'cnn#production' } }],
    host: '127.0.0.1',
    port: 0,
    watch: { intervalMs: 200 },
    logger: silentLogger(),
  });
  const { url } = await server.start();
  run.log(`  serving cnn#production at ${url} (TF Serving REST /v1, Open Inference Protocol /v2)`);
  const sent = 16;
  const answer = await infer(url, test, 0, sent);
  const correct = answer.labels.filter((label, i) => label === test.labels[i]).length;
  run.log(`  ${sent} real MNIST test images -> v${answer.version}: ${correct}/${sent} correct`);
  return { server, url, correct, sent };
}
