import path from 'node:path';
import type { Registry, RegistryDiff, RemoteOptions } from '@mlship/registry';
import { get, REGISTRY_FIELD } from '../command';
import type { CommandContext, CommandDef } from '../command';
import type { Field, Settings } from '../fields';
import { percent, renderTable } from '../output';

/**
 * Opens the registry a command names. Only `registry init` creates one: elsewhere a mistyped
 * path must not silently become an empty repository.
 *
 * @internal
 */
export async function openExisting(ctx: CommandContext, s: Settings): Promise<Registry> {
  const dir = path.resolve(ctx.io.cwd, get<string>(s, 'registry'));
  // Imported on use, like TensorFlow.js: `mlship --help` stays fast.
  const { isRegistryError, openRegistry, RegistryError } = await import('@mlship/registry');
  try {
    return await openRegistry({ dir, create: false });
  } catch (e) {
    if (isRegistryError(e) && e.code === 'NOT_A_REPOSITORY')
      throw new RegistryError(
        'NOT_A_REPOSITORY',
        `${dir} is not a git repository: run \`mlship registry init ${dir}\` first, or pass --registry`,
        {
          cause: e,
          data: { path: dir },
        },
      );
    throw e;
  }
}

const short = (commit: string): string => commit.slice(0, 10);
const metricCell = (m: Record<string, number>): string =>
  Object.entries(m)
    .map(
      ([k, v]) =>
        `${k} ${k.toLowerCase().includes('accuracy') ? percent(v) : Number(v.toPrecision(4))}`,
    )
    .join(', ');

const REMOTE_FIELDS: Field[] = [
  REGISTRY_FIELD,
  {
    key: 'url',
    flag: '--url <url>',
    help: 'remote URL (default: the configured remote)',
    type: { kind: 'string' },
  },
  {
    key: 'remote',
    flag: '--remote <name>',
    help: 'configured git remote name (default origin)',
    type: { kind: 'string' },
  },
  {
    key: 'username',
    flag: '--username <name>',
    help: 'HTTP user (the token is read from MLSHIP_GIT_TOKEN)',
    type: { kind: 'string' },
  },
];

function remoteOptions(ctx: CommandContext, s: Settings, action: string): RemoteOptions {
  const token = ctx.io.env['MLSHIP_GIT_TOKEN'];
  const username = get<string | undefined>(s, 'username');
  let bar: ReturnType<CommandContext['out']['progress']> | undefined;
  let phase = '';
  return {
    ...(get<string | undefined>(s, 'url') !== undefined ? { url: get<string>(s, 'url') } : {}),
    ...(get<string | undefined>(s, 'remote') !== undefined
      ? { remote: get<string>(s, 'remote') }
      : {}),
    ...(token !== undefined || username !== undefined
      ? {
          auth: {
            username: username ?? 'mlship',
            ...(token === undefined ? {} : { password: token }),
          },
        }
      : {}),
    onProgress: (p) => {
      if (p.total === undefined || p.total === 0) return;
      if (p.phase !== phase) {
        bar?.stop();
        phase = p.phase;
        bar = ctx.out.progress(`${action} ${p.phase}`.slice(0, 40), p.total);
      }
      bar?.update(p.loaded);
    },
  };
}

function diffTable(d: RegistryDiff): string {
  const metrics = renderTable(
    ['metric', d.from.tag, d.to.tag, 'change'],
    d.metrics.map((m) => [
      m.name,
      m.from?.toFixed(4) ?? '-',
      m.to?.toFixed(4) ?? '-',
      m.change === null ? '-' : (m.change >= 0 ? '+' : '') + m.change.toFixed(4),
    ]),
  );
  const params = d.params.filter((p) => p.changed);
  const files = d.files.filter((f) => f.status !== 'unchanged');
  return [
    metrics,
    params.length === 0
      ? 'params: unchanged'
      : renderTable(
          ['param', d.from.tag, d.to.tag],
          params.map((p) => [p.name, JSON.stringify(p.from), JSON.stringify(p.to)]),
        ),
    renderTable(
      ['dataset', d.from.tag, d.to.tag],
      d.datasets.map((x) => [
        x.role,
        x.from?.fingerprint.slice(7, 19) ?? '-',
        x.to?.fingerprint.slice(7, 19) ?? '-',
      ]),
    ),
    files.length === 0
      ? 'files: unchanged'
      : renderTable(
          ['file', 'status', 'bytes'],
          files.map((f) => [f.path, f.status, f.toBytes ?? f.fromBytes]),
        ),
  ].join('\n');
}

/** The `mlship registry ...` commands. */
export const registryCommands: CommandDef[] = [
  {
    path: ['registry', 'init'],
    args: ['[dir]'],
    summary: 'create a git model registry (a working tree, or --bare for a shared remote)',
    examples: [
      'mlship registry init ./models-registry',
      'mlship registry init /srv/models.git --bare',
    ],
    fields: [
      {
        key: 'bare',
        flag: '--bare',
        help: 'create a bare repository',
        type: { kind: 'boolean' },
        default: false,
      },
    ],
    async run({ out, io }, [dir], s) {
      const abs = path.resolve(io.cwd, dir ?? '.');
      const { openRegistry } = await import('@mlship/registry');
      const reg = await openRegistry({ dir: abs, create: true, bare: get<boolean>(s, 'bare') });
      const models = await reg.models();
      out.result(
        { dir: abs, branch: reg.branchRef, models: models.length },
        () => `registry ready at ${abs} (branch ${reg.branchRef}, ${models.length} models)`,
      );
    },
  },
  {
    path: ['registry', 'register'],
    args: ['<name>', '<model-dir>'],
    summary: 'register a model directory as the next version of <name> (one commit + GTO tag)',
    examples: [
      'mlship registry register cnn models/cnn --stage production --message "baseline"',
      'mlship registry register cnn models/cnn-v2 --parent cnn@v1 --strategy fine-tune',
    ],
    fields: [
      REGISTRY_FIELD,
      {
        key: 'message',
        flag: '--message <text>',
        help: 'commit and tag message',
        type: { kind: 'string' },
      },
      {
        key: 'stages',
        flag: '--stage <stages>',
        help: 'stages to assign (comma-separated)',
        type: { kind: 'list' },
      },
      {
        key: 'parent',
        flag: '--parent <ref>',
        help: 'parent version (default: mlship.json parent)',
        type: { kind: 'string' },
      },
      {
        key: 'strategy',
        flag: '--strategy <name>',
        help: 'transfer strategy (default: mlship.json strategy)',
        type: { kind: 'string' },
      },
    ],
    async run(ctx, [name, dir], s) {
      const reg = await openExisting(ctx, s);
      const v = await reg.register(name!, path.resolve(ctx.io.cwd, dir!), {
        ...(get(s, 'message') !== undefined ? { message: get<string>(s, 'message') } : {}),
        ...(get(s, 'stages') !== undefined ? { stages: get<string[]>(s, 'stages') } : {}),
        ...(get(s, 'parent') !== undefined ? { parent: get<string>(s, 'parent') } : {}),
        ...(get(s, 'strategy') !== undefined ? { strategy: get<string>(s, 'strategy') } : {}),
      });
      const stages = get<string[] | undefined>(s, 'stages') ?? [];
      ctx.out.result(
        { ...v, stages },
        () =>
          `registered ${v.tag} (commit ${short(v.commit)})${stages.length ? `, stages ${stages.join(', ')}` : ''}`,
      );
    },
  },
  {
    path: ['registry', 'list'],
    args: ['[name]'],
    summary: 'list the models, or the versions of one model with metrics and stages',
    examples: ['mlship registry list', 'mlship registry list cnn --json'],
    fields: [REGISTRY_FIELD],
    async run(ctx, [name], s) {
      const reg = await openExisting(ctx, s);
      if (name === undefined) {
        const models = await reg.models();
        ctx.out.result({ models }, () =>
          models.length === 0
            ? 'no models registered'
            : renderTable(
                ['model', 'latest', 'versions', 'stages'],
                models.map((m) => [
                  m.name,
                  m.latest === null ? '-' : `v${m.latest}`,
                  m.versions,
                  Object.entries(m.stages)
                    .map(([st, v]) => `${st}=v${v}`)
                    .join(', '),
                ]),
              ),
        );
        return;
      }
      const versions = await reg.versions(name);
      ctx.out.result({ name, versions }, () =>
        versions.length === 0
          ? `no versions of ${name}`
          : renderTable(
              ['version', 'created', 'metrics', 'stages', 'message'],
              versions.map((v) => [
                `v${v.version}${v.deregistered ? ' (deregistered)' : ''}`,
                v.created.replace('T', ' ').slice(0, 19),
                metricCell(v.metrics),
                v.stages.join(', '),
                v.message.split('\n')[0],
              ]),
            ),
      );
    },
  },
  {
    path: ['registry', 'show'],
    args: ['<ref>'],
    summary: 'show one version: metrics, params, datasets, lineage, files',
    examples: ['mlship registry show cnn#production', 'mlship registry show cnn@v2 --json'],
    fields: [REGISTRY_FIELD],
    async run(ctx, [ref], s) {
      const reg = await openExisting(ctx, s);
      const d = await reg.show(ref!);
      ctx.out.result(d, () =>
        [
          `${d.tag}  commit ${short(d.commit)}  created ${d.created}`,
          `stages: ${d.stages.join(', ') || '-'}   parent: ${d.record.parent ?? '-'}   strategy: ${d.record.strategy ?? '-'}`,
          `metrics: ${metricCell(d.metrics) || '-'}`,
          `datasets: ${
            Object.entries(d.record.datasets)
              .map(
                ([r, x]) =>
                  `${r} ${x.fingerprint.slice(0, 19)}${x.count === undefined ? '' : ` (${x.count})`}`,
              )
              .join(', ') || '-'
          }`,
          `lineage: ${d.lineage.map((l) => `${l.tag}${l.strategy ? ` (${l.strategy})` : ''}`).join(' <- ')}`,
          renderTable(
            ['file', 'bytes', 'sha256'],
            d.files.map((f) => [f.path, f.bytes, f.sha256.slice(0, 16)]),
          ),
        ].join('\n'),
      );
    },
  },
  {
    path: ['registry', 'diff'],
    args: ['<from>', '<to>'],
    summary: 'compare two versions: metrics, changed params, datasets, changed files',
    details: '--format markdown prints the tables a pull-request comment shows.',
    examples: [
      'mlship registry diff cnn#production cnn@latest',
      'mlship registry diff cnn@v1 cnn@v2 --format markdown > diff.md',
    ],
    fields: [
      REGISTRY_FIELD,
      {
        key: 'format',
        flag: '--format <format>',
        help: 'table or markdown',
        type: { kind: 'enum', values: ['table', 'markdown'] },
        default: 'table',
      },
    ],
    async run(ctx, [from, to], s) {
      const reg = await openExisting(ctx, s);
      const d = await reg.diff(from!, to!);
      const { formatDiffMarkdown } = await import('@mlship/registry');
      ctx.out.result(d, () =>
        get(s, 'format') === 'markdown' ? formatDiffMarkdown(d) : diffTable(d),
      );
    },
  },
  {
    path: ['registry', 'assign'],
    args: ['<ref>', '<stage>'],
    summary: 'point a stage (alias) at a version; the history stays as GTO tags',
    examples: ['mlship registry assign cnn@v2 production --message "beats v1 on the new data"'],
    fields: [
      REGISTRY_FIELD,
      { key: 'message', flag: '--message <text>', help: 'tag message', type: { kind: 'string' } },
    ],
    async run(ctx, [ref, stage], s) {
      const reg = await openExisting(ctx, s);
      const e = await reg.assign(
        ref!,
        stage!,
        get(s, 'message') === undefined ? {} : { message: get<string>(s, 'message') },
      );
      ctx.out.result(e, () => `${e.name}#${e.stage} -> v${e.version} (tag ${e.tag})`);
    },
  },
  {
    path: ['registry', 'unassign'],
    args: ['<name>', '<stage>'],
    summary: 'remove a stage from the version it points at',
    examples: ['mlship registry unassign cnn staging'],
    fields: [
      REGISTRY_FIELD,
      { key: 'message', flag: '--message <text>', help: 'tag message', type: { kind: 'string' } },
    ],
    async run(ctx, [name, stage], s) {
      const reg = await openExisting(ctx, s);
      const e = await reg.unassign(
        name!,
        stage!,
        get(s, 'message') === undefined ? {} : { message: get<string>(s, 'message') },
      );
      ctx.out.result(e, () => `${e.name}#${e.stage} removed from v${e.version} (tag ${e.tag})`);
    },
  },
  {
    path: ['registry', 'checkout'],
    args: ['<ref>', '<dir>'],
    summary: 'write a version as a verified model directory',
    examples: ['mlship registry checkout cnn#production ./serving/cnn --overwrite'],
    fields: [
      REGISTRY_FIELD,
      {
        key: 'overwrite',
        flag: '--overwrite',
        help: 'replace <dir> if it exists',
        type: { kind: 'boolean' },
        default: false,
      },
    ],
    async run(ctx, [ref, dir], s) {
      const reg = await openExisting(ctx, s);
      const r = await reg.checkout(ref!, path.resolve(ctx.io.cwd, dir!), {
        overwrite: get<boolean>(s, 'overwrite'),
      });
      ctx.out.result(r, () => `${r.tag} -> ${r.dir} (${r.files.length} files verified)`);
    },
  },
  {
    path: ['registry', 'lineage'],
    args: ['<ref>'],
    summary: 'show a version and its ancestors: strategy, datasets, metrics',
    examples: ['mlship registry lineage cnn@latest'],
    fields: [REGISTRY_FIELD],
    async run(ctx, [ref], s) {
      const reg = await openExisting(ctx, s);
      const steps = await reg.lineage(ref!);
      ctx.out.result({ lineage: steps }, () =>
        renderTable(
          ['version', 'parent', 'strategy', 'metrics', 'datasets'],
          steps.map((l) => [
            l.tag,
            l.parent ?? '-',
            l.strategy ?? '-',
            metricCell(l.metrics),
            Object.entries(l.datasets)
              .map(([r, d]) => `${r} ${d.fingerprint.slice(7, 19)}`)
              .join(', '),
          ]),
        ),
      );
    },
  },
  {
    path: ['registry', 'push'],
    summary: 'push the registry branch and its GTO tags to a git remote (smart HTTP)',
    details:
      'Credentials: --username and the MLSHIP_GIT_TOKEN environment variable (never a flag).',
    examples: [
      'mlship registry push --url https://git.example.com/models.git --username ci   # token in MLSHIP_GIT_TOKEN',
    ],
    fields: REMOTE_FIELDS,
    async run(ctx, _args, s) {
      const reg = await openExisting(ctx, s);
      const r = await reg.push(remoteOptions(ctx, s, 'push'));
      ctx.out.result(r, () => `pushed ${r.pushed.length} refs (${r.skipped} tags already there)`);
    },
  },
  {
    path: ['registry', 'pull'],
    summary: 'fetch the registry branch and GTO tags from a git remote',
    examples: ['mlship registry pull --url https://git.example.com/models.git'],
    fields: REMOTE_FIELDS,
    async run(ctx, _args, s) {
      const reg = await openExisting(ctx, s);
      const r = await reg.pull(remoteOptions(ctx, s, 'pull'));
      ctx.out.result(
        r,
        () =>
          `branch ${r.branch}, ${r.newTags.length} new tags${r.fetched ? ` (tip ${short(r.fetched)})` : ''}`,
      );
    },
  },
];
