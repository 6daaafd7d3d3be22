import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { badRequest } from '../errors';
import { fromV2Tensor } from '../inputs';
import { checkBodyKeys, modelOf, runBatch, signatureOf, topK, versionOf } from '../context';
import type { ServeContext } from '../context';

interface Params {
  model: string;
  version?: string;
}

const tags = ['Open Inference Protocol v2'];
const paramsSchema = {
  type: 'object',
  properties: {
    model: { type: 'string', description: 'Model name' },
    version: { type: 'string', description: 'Version number' },
  },
};

/** The outputs `/infer` can return. */
export const V2_OUTPUTS = [
  'probabilities',
  'label',
  'top_k_labels',
  'top_k_probabilities',
] as const;

function selOf(p: Params): { version?: string } {
  return p.version === undefined ? {} : { version: p.version };
}

function topKOf(params: unknown, where: string): number | undefined {
  if (typeof params !== 'object' || params === null) return undefined;
  const k = (params as Record<string, unknown>)['top_k'];
  if (k === undefined) return undefined;
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1)
    throw badRequest(
      `${where}.top_k: expected a positive integer, got ${JSON.stringify(k).slice(0, 30)}`,
      `${where}.top_k`,
    );
  return k;
}

function paramsObject(v: unknown, where: string): Record<string, unknown> | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw badRequest(`${where}: expected an object of parameters`, where);
  return v as Record<string, unknown>;
}

/** @internal Registers the Open Inference Protocol v2 routes. */
export function v2Routes(app: FastifyInstance, ctx: ServeContext, serverVersion: string): void {
  app.get(
    '/v2/health/live',
    { config: { routeId: 'v2_live' }, schema: { tags, summary: 'Server live' } },
    () => ({ live: true }),
  );
  app.get(
    '/v2/health/ready',
    {
      config: { routeId: 'v2_ready' },
      schema: { tags, summary: 'Server ready: every model has a serving version (503 otherwise)' },
    },
    async (_req, reply) => {
      const ready = ctx.accepting() && [...ctx.models.values()].every((m) => m.ready);
      if (!ready) reply.code(503);
      return { ready };
    },
  );
  app.get(
    '/v2',
    { config: { routeId: 'v2_server' }, schema: { tags, summary: 'Server metadata' } },
    () => ({
      name: 'mlship',
      version: serverVersion,
      extensions: [],
    }),
  );

  const metadata = async (
    req: FastifyRequest<{ Params: Params }>,
    reply: FastifyReply,
  ): Promise<unknown> => {
    const m = modelOf(ctx, req, req.params.model);
    const v = versionOf(req, reply, m, selOf(req.params));
    const { meta } = v;
    return {
      name: m.name,
      versions: m.loaded().map((x) => String(x.version)),
      platform: 'tensorflowjs',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, ...meta.input.shape] }],
      outputs: [
        { name: 'probabilities', datatype: 'FP32', shape: [-1, meta.labels.length] },
        { name: 'label', datatype: 'BYTES', shape: [-1] },
        { name: 'top_k_labels', datatype: 'BYTES', shape: [-1, -1] },
        { name: 'top_k_probabilities', datatype: 'FP32', shape: [-1, -1] },
      ],
      parameters: {
        model_version: String(v.version),
        labels: meta.labels,
        input_scale: meta.input.scale,
        input_offset: meta.input.offset,
        version_labels: m.labels(),
      },
    };
  };
  const metadataSchema = {
    tags,
    params: paramsSchema,
    summary: 'Model metadata',
    description:
      'Inputs (FP32 [-1, h, w, c]; UINT8 raw pixels and BYTES PNG/JPEG are accepted too) and outputs.',
  };
  app.get(
    '/v2/models/:model',
    { config: { routeId: 'v2_metadata' }, schema: metadataSchema },
    metadata,
  );
  app.get(
    '/v2/models/:model/versions/:version',
    { config: { routeId: 'v2_metadata' }, schema: metadataSchema },
    metadata,
  );

  const ready = async (
    req: FastifyRequest<{ Params: Params }>,
    reply: FastifyReply,
  ): Promise<unknown> => {
    const m = modelOf(ctx, req, req.params.model);
    const v = versionOf(req, reply, m, selOf(req.params));
    const ok = ctx.accepting() && v.state === 'AVAILABLE';
    if (!ok) reply.code(503);
    return { name: m.name, ready: ok };
  };
  const readySchema = { tags, params: paramsSchema, summary: 'Model ready' };
  app.get(
    '/v2/models/:model/ready',
    { config: { routeId: 'v2_model_ready' }, schema: readySchema },
    ready,
  );
  app.get(
    '/v2/models/:model/versions/:version/ready',
    { config: { routeId: 'v2_model_ready' }, schema: readySchema },
    ready,
  );

  const infer = async (
    req: FastifyRequest<{ Params: Params }>,
    reply: FastifyReply,
  ): Promise<unknown> => {
    const body = checkBodyKeys(
      req.body,
      ['id', 'parameters', 'inputs', 'outputs'],
      'inference request',
    );
    const id = body['id'];
    if (id !== undefined && typeof id !== 'string') throw badRequest('id: expected a string', 'id');
    const parameters = paramsObject(body['parameters'], 'parameters');
    const m = modelOf(ctx, req, req.params.model);
    const v = versionOf(req, reply, m, selOf(req.params));
    const inputs = body['inputs'];
    if (!Array.isArray(inputs) || inputs.length !== 1)
      throw badRequest(
        `inputs: expected a list with one tensor (this model has one input, "input"), got ${Array.isArray(inputs) ? `${inputs.length} tensors` : typeof inputs}`,
        'inputs',
      );
    const requested = body['outputs'];
    let outputs: { name: string; parameters?: Record<string, unknown> }[];
    if (requested === undefined) outputs = V2_OUTPUTS.map((name) => ({ name }));
    else {
      if (!Array.isArray(requested) || requested.length === 0)
        throw badRequest('outputs: expected a non-empty list of {"name": ...}', 'outputs');
      outputs = requested.map((r, i) => {
        const o = checkBodyKeys(r, ['name', 'parameters'], `outputs[${i}]`);
        if (typeof o['name'] !== 'string' || !(V2_OUTPUTS as readonly string[]).includes(o['name']))
          throw badRequest(
            `outputs[${i}].name: expected one of ${V2_OUTPUTS.join(', ')}, got ${JSON.stringify(o['name']).slice(0, 40)}`,
            `outputs[${i}].name`,
          );
        const p = paramsObject(o['parameters'], `outputs[${i}].parameters`);
        return { name: o['name'], ...(p === undefined ? {} : { parameters: p }) };
      });
    }
    const defaultK = topKOf(parameters, 'parameters') ?? Math.min(3, v.classes);
    for (const [i, o] of outputs.entries()) topKOf(o.parameters, `outputs[${i}].parameters`);
    const batch = fromV2Tensor(inputs[0], signatureOf(ctx, v), 'inputs[0]');
    const probs = await runBatch(ctx, req, v, batch);
    const n = batch.n;
    const C = v.classes;
    const labels = v.meta.labels;
    const out = outputs.map((o) => {
      const k = Math.min(topKOf(o.parameters, 'outputs') ?? defaultK, C);
      const extra = o.parameters === undefined ? {} : { parameters: o.parameters };
      switch (o.name) {
        case 'probabilities':
          return {
            name: o.name,
            shape: [n, C],
            datatype: 'FP32',
            data: Array.from(probs.subarray(0, n * C)),
            ...extra,
          };
        case 'label':
          return {
            name: o.name,
            shape: [n],
            datatype: 'BYTES',
            data: Array.from({ length: n }, (_, r) => labels[topK(probs, r, C, 1)[0] as number]),
            ...extra,
          };
        case 'top_k_labels':
          return {
            name: o.name,
            shape: [n, k],
            datatype: 'BYTES',
            data: Array.from({ length: n }, (_, r) =>
              topK(probs, r, C, k).map((c) => labels[c]),
            ).flat(),
            ...extra,
          };
        default:
          return {
            name: o.name,
            shape: [n, k],
            datatype: 'FP32',
            data: Array.from({ length: n }, (_, r) =>
              topK(probs, r, C, k).map((c) => probs[r * C + c] as number),
            ).flat(),
            ...extra,
          };
      }
    });
    return {
      model_name: m.name,
      model_version: String(v.version),
      ...(id === undefined ? {} : { id }),
      ...(parameters === undefined ? {} : { parameters }),
      outputs: out,
    };
  };
  const inferSchema = {
    tags,
    params: paramsSchema,
    summary: 'Inference',
    description:
      'One input tensor "input": FP32 [n, h, w, c] (model input values), UINT8 [n, h, w, c] (raw pixels 0..255, scaled per mlship.json) or BYTES [n] (base64 PNG/JPEG). Outputs: probabilities, label, top_k_labels, top_k_probabilities (k from parameters.top_k, default 3). The request id and parameters are echoed.',
    body: { type: 'object', additionalProperties: true },
  };
  app.post(
    '/v2/models/:model/infer',
    { config: { routeId: 'v2_infer' }, schema: inferSchema },
    infer,
  );
  app.post(
    '/v2/models/:model/versions/:version/infer',
    { config: { routeId: 'v2_infer' }, schema: inferSchema },
    infer,
  );
}
