import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** @internal The server's Prometheus metrics, in their own registry (never prom-client's global one). */
export class ServeMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'model' | 'version' | 'route' | 'status'>;
  readonly latency: Histogram<'model' | 'route'>;
  readonly batchSize: Histogram<'model' | 'version'>;
  readonly inference: Histogram<'model' | 'version'>;
  readonly rejected: Counter<'model' | 'reason'>;
  readonly inFlight: Gauge;

  constructor(state: {
    queueDepth(): { model: string; version: number; depth: number }[];
    loaded(): { model: string; version: number; state: string }[];
  }) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'mlship_requests_total',
      help: 'HTTP requests answered, by model, version, route and status code',
      labelNames: ['model', 'version', 'route', 'status'],
      registers,
    });
    this.latency = new Histogram({
      name: 'mlship_request_duration_seconds',
      help: 'Time from request arrival to response, by model and route',
      labelNames: ['model', 'route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers,
    });
    this.batchSize = new Histogram({
      name: 'mlship_batch_size',
      help: 'Images per inference call (adaptive batching)',
      labelNames: ['model', 'version'],
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers,
    });
    this.inference = new Histogram({
      name: 'mlship_inference_duration_seconds',
      help: 'Time of one inference call (one batch) on the workers',
      labelNames: ['model', 'version'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.rejected = new Counter({
      name: 'mlship_rejected_total',
      help: 'Requests answered 503 by back-pressure, by model and reason (queue full or deadline)',
      labelNames: ['model', 'reason'],
      registers,
    });
    this.inFlight = new Gauge({
      name: 'mlship_requests_in_flight',
      help: 'HTTP requests received and not yet answered (including this scrape)',
      registers,
    });
    new Gauge({
      name: 'mlship_queue_depth',
      help: 'Images waiting for inference, by model and version',
      labelNames: ['model', 'version'],
      registers,
      collect() {
        this.reset();
        for (const q of state.queueDepth())
          this.set({ model: q.model, version: String(q.version) }, q.depth);
      },
    });
    new Gauge({
      name: 'mlship_model_versions_loaded',
      help: 'Loaded model versions (1 per version, labelled with its state)',
      labelNames: ['model', 'version', 'state'],
      registers,
      collect() {
        this.reset();
        for (const v of state.loaded())
          this.set({ model: v.model, version: String(v.version), state: v.state }, 1);
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'mlship_process_' });
  }
}
