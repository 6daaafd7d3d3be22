import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ServeError, badRequest } from '../errors';
import { fromColumnar, fromInstances } from '../inputs';
import type { InputBatch } from '../inputs';
import type { ServedModel, VersionStatus } from '../served-model';
import type { LoadedVersion } from '../version';
import { checkBodyKeys, modelOf, rowOf, runBatch, signatureOf, topK, versionOf } from '../context';
import type { ServeContext } from '../context';

type Sel = { version?: string; label?: string };
interface Params {
  model: string;
  version?: string;
  label?: string;
}

const NAME = '(^[^:/]+)';
const tags = ['TF Serving REST'];
const paramsSchema = {
  type: 'object',
  properties: {
    model: { type: 'string', description: 'Model name' },
    version: { type: 'string', description: 'Version number' },
    label: { type: 'string', description: 'Version label (a registry stage, e.g. production)' },
  },
};

/** TF Serving's state of a version (GetModelStatusResponse JSON). */
function statusJson(s: VersionStatus): unknown {
  const code = s.error === undefined ? 'OK' : grpcCode(s.error.code);
  return {
    version: String(s.version),
    state: s.state,
    status: { error_code: code, error_message: s.error?.message ?? '' },
  };
}

/** The canonical gRPC code naming a load failure, as TF Serving reports it. */
function grpcCode(code: string): string {
  switch (code) {
    case 'INTEGRITY':
      return 'DATA_LOSS';
    case 'NOT_A_MODEL_DIR':
      return 'NOT_FOUND';
    case 'INVALID_META':
      return 'INVALID_ARGUMENT';
    case 'WARMUP_FAILED':
      return 'FAILED_PRECONDITION';
    default:
      return 'UNKNOWN';
  }
}

function dims(shape: readonly number[]): unknown {
  return { dim: [-1, ...shape].map((d) => ({ size: String(d), name: '' })), unknown_rank: false };
}

/** GetModelMetadataResponse JSON, with an `mlship` block (labels, input scaling, metrics). */
export function tfMetadata(m: ServedModel, v: LoadedVersion): unknown {
  const { meta } = v;
  return {
    model_spec: { name: m.name, signature_name: '', version: String(v.version) },
    metadata: {
      signature_def: {
        signature_def: {
          serving_default: {
            inputs: {
              input: {
                dtype: 'DT_FLOAT',
                tensor_shape: dims(meta.input.shape),
                name: 'serving_default_input:0',
              },
            },
            outputs: {
              probabilities: {
                dtype: 'DT_FLOAT',
                tensor_shape: dims([meta.labels.length]),
                name: 'StatefulPartitionedCall:0',
              },
            },
            method_name: 'tensorflow/serving/predict',
          },
        },
      },
    },
    mlship: {
      labels: meta.labels,
      input: meta.input,
      metrics: meta.metrics,
      created: meta.created,
      version_labels: m.labels(),
      source: v.origin.tag ?? v.origin.dir,
    },
  };
}

function signature(body: Record<string, unknown>): void {
  const s = body['signature_name'];
  if (s !== undefined && s !== '' && s !== 'serving_default')
    throw badRequest(
      `signature_name: unknown signature ${JSON.stringify(s).slice(0, 60)} (this model has "serving_default")`,
      'signature_name',
    );
}

function selOf(p: Params): Sel {
  return {
    ...(p.version !== undefined ? { version: p.version } : {}),
    ...(p.label !== undefined ? { label: p.label } : {}),
  };
}

/** @internal Registers the TF Serving REST routes. */
export function tfServingRoutes(app: FastifyInstance, ctx: ServeContext): void {
  app.get(
    '/v1/models',
    {
      config: { routeId: 'tfs_models' },
      schema: {
        tags,
        summary: 'List served models (mlship extension)',
        description: 'Every model with its serving versions, labels and default version.',
      },
    },
    () => ({
      models: [...ctx.models.values()].map((m) => ({
        name: m.name,
        default_version: m.defaultVersion ? String(m.defaultVersion.version) : null,
        versions: m
          .status()
          .map((s) => ({ version: String(s.version), state: s.state, labels: s.labels })),
        labels: Object.fromEntries(Object.entries(m.labels()).map(([k, v]) => [k, String(v)])),
        classes: m.defaultVersion?.meta.labels ?? [],
      })),
    }),
  );

  const status = (req: FastifyRequest<{ Params: Params }>): unknown => {
    const m = modelOf(ctx, req, req.params.model);
    const sel = selOf(req.params);
    if (sel.version === undefined && sel.label === undefined)
      return { model_version_status: m.status().map(statusJson) };
    if (sel.version !== undefined) {
      const s = m.status().find((x) => String(x.version) === sel.version);
      if (s !== undefined) return { model_version_status: [statusJson(s)] };
    }
    const v = m.resolve(sel);
    req.mlship.version = v.version;
    return {
      model_version_status: m
        .status()
        .filter((s) => s.version === v.version)
        .map(statusJson),
    };
  };
  const statusSchema = {
    tags,
    params: paramsSchema,
    summary: 'Model status (GetModelStatusResponse)',
    description: 'State of every version, or of the version / label named.',
  };
  app.get('/v1/models/:model', { config: { routeId: 'tfs_status' }, schema: statusSchema }, status);
  app.get(
    '/v1/models/:model/versions/:version',
    { config: { routeId: 'tfs_status' }, schema: statusSchema },
    status,
  );
  app.get(
    '/v1/models/:model/labels/:label',
    { config: { routeId: 'tfs_status' }, schema: statusSchema },
    status,
  );

  const metadata = async (
    req: FastifyRequest<{ Params: Params }>,
    reply: FastifyReply,
  ): Promise<unknown> => {
    const m = modelOf(ctx, req, req.params.model);
    return tfMetadata(m, versionOf(req, reply, m, selOf(req.params)));
  };
  const metadataSchema = {
    tags,
    params: paramsSchema,
    summary: 'Model metadata (GetModelMetadataResponse)',
    description:
      'The serving_default signature from mlship.json: input shape and dtype, one probability per label; plus an mlship block with labels, input scaling and metrics.',
  };
  app.get(
    '/v1/models/:model/metadata',
    { config: { routeId: 'tfs_metadata' }, schema: metadataSchema },
    metadata,
  );
  app.get(
    '/v1/models/:model/versions/:version/metadata',
    { config: { routeId: 'tfs_metadata' }, schema: metadataSchema },
    metadata,
  );
  app.get(
    '/v1/models/:model/labels/:label/metadata',
    { config: { routeId: 'tfs_metadata' }, schema: metadataSchema },
    metadata,
  );

  const predict = async (
    req: FastifyRequest<{ Params: Params }>,
    reply: FastifyReply,
  ): Promise<unknown> => {
    const body = checkBodyKeys(
      req.body,
      ['signature_name', 'instances', 'inputs'],
      'predict request',
    );
    signature(body);
    const m = modelOf(ctx, req, req.params.model);
    const v = versionOf(req, reply, m, selOf(req.params));
    const hasInstances = 'instances' in body;
    if (hasInstances === 'inputs' in body)
      throw badRequest(
        'predict request: expected exactly one of "instances" (row format) and "inputs" (columnar format)',
      );
    const sig = signatureOf(ctx, v);
    const batch: InputBatch = hasInstances
      ? fromInstances(body['instances'], sig)
      : fromColumnar(body['inputs'], sig);
    const probs = await runBatch(ctx, req, v, batch);
    const rows = Array.from({ length: batch.n }, (_, r) => rowOf(probs, r, v.classes));
    return hasInstances
      ? { predictions: rows, model_version: String(v.version) }
      : { outputs: rows, model_version: String(v.version) };
  };

  const classify = async (
    req: FastifyRequest<{ Params: Params }>,
    reply: FastifyReply,
  ): Promise<unknown> => {
    const body = checkBodyKeys(
      req.body,
      ['signature_name', 'context', 'examples', 'top_k'],
      'classify request',
    );
    signature(body);
    const context = body['context'];
    if (
      context !== undefined &&
      (typeof context !== 'object' || context === null || Object.keys(context).length > 0)
    )
      throw badRequest(
        'classify request: context: this model has one feature ("input"); give it in each example, context must be empty',
        'context',
      );
    const m = modelOf(ctx, req, req.params.model);
    const v = versionOf(req, reply, m, selOf(req.params));
    const k = body['top_k'] === undefined ? v.classes : body['top_k'];
    if (typeof k !== 'number' || !Number.isInteger(k) || k < 1)
      throw badRequest(
        `classify request: top_k: expected a positive integer, got ${JSON.stringify(k).slice(0, 30)}`,
        'top_k',
      );
    const examples = body['examples'];
    if (!Array.isArray(examples))
      throw badRequest(
        'classify request: examples: expected a list of {"input": <image>} objects',
        'examples',
      );
    for (const [i, ex] of examples.entries()) {
      if (typeof ex !== 'object' || ex === null || Array.isArray(ex))
        throw badRequest(
          `examples[${i}]: expected an object {"input": <nested list or {"b64": ...}>}`,
          `examples[${i}]`,
        );
    }
    const batch = fromInstances(examples, signatureOf(ctx, v));
    const probs = await runBatch(ctx, req, v, batch);
    const labels = v.meta.labels;
    const result = Array.from({ length: batch.n }, (_, r) =>
      topK(probs, r, v.classes, Math.min(k, v.classes)).map((c) => [
        labels[c],
        probs[r * v.classes + c],
      ]),
    );
    return { result, model_version: String(v.version) };
  };

  const regress = (req: FastifyRequest<{ Params: Params }>): never => {
    modelOf(ctx, req, req.params.model);
    throw new ServeError(
      'BAD_REQUEST',
      'regress is not supported: mlship models are classifiers; use :classify or :predict',
    );
  };

  const bodySchema = (summary: string, description: string): Record<string, unknown> => ({
    tags,
    params: paramsSchema,
    summary,
    description,
    body: { type: 'object', additionalProperties: true },
  });
  const predictSchema = bodySchema(
    'Predict (PredictRequest JSON)',
    'Body: {"instances": [...]} (row format: each instance a [h][w][c] nested list of float32 model input, or {"b64": "<PNG/JPEG>"}) or {"inputs": [...]} (columnar). Answers {"predictions": [[p0, p1, ...], ...]} or {"outputs": ...}, one probability per label, and "model_version".',
  );
  const classifySchema = bodySchema(
    'Classify (ClassificationRequest JSON)',
    'Body: {"examples": [{"input": <nested list or {"b64": ...}>}, ...], "top_k"?: n}. Answers {"result": [[[label, score], ...], ...]} sorted by score, and "model_version".',
  );
  for (const [suffix, routeId, handler, schema] of [
    ['predict', 'tfs_predict', predict, predictSchema],
    ['classify', 'tfs_classify', classify, classifySchema],
    [
      'regress',
      'tfs_regress',
      regress,
      bodySchema('Regress (not supported)', 'mlship models are classifiers: always 400.'),
    ],
  ] as const) {
    app.post(`/v1/models/:model${NAME}::${suffix}`, { config: { routeId }, schema }, handler);
    app.post(
      `/v1/models/:model/versions/:version${NAME}::${suffix}`,
      { config: { routeId }, schema },
      handler,
    );
    app.post(
      `/v1/models/:model/labels/:label${NAME}::${suffix}`,
      { config: { routeId }, schema },
      handler,
    );
  }
}
