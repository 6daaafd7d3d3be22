import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { checkOptions, describeError, isMlshipError } from '@mlship/core';
import { Option } from 'commander';
import type { Command } from 'commander';
import { CliError } from './errors';
import { parseDatasetSpec } from './data-source';

/** What a field holds; the same checks apply to a config file value and a flag value. */
export type FieldType =
  | { kind: 'int'; min?: number }
  | { kind: 'number'; min?: number; max?: number; exclusiveMin?: boolean }
  | { kind: 'string' }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'boolean' }
  | { kind: 'workers' }
  | { kind: 'list' }
  | { kind: 'dataset' }
  | { kind: 'json'; check?: (value: unknown) => void; describe: string };

/**
 * One setting of a command: where it sits in the config file (`key`, dotted for nested objects),
 * its flag (omitted for config-only settings), its type, default and help line.
 */
export interface Field {
  /** Dotted path in the config file, e.g. `epochs` or `gate.margin`. */
  key: string;
  /** Commander flag, e.g. `--batch-size <n>` or `--overwrite`. */
  flag?: string;
  /** One line for `--help`. */
  help: string;
  type: FieldType;
  default?: unknown;
  required?: boolean;
}

/** Resolved settings, by field key: config file values, overridden by flags, then defaults. */
export type Settings = Record<string, unknown>;

/** A value failed its type check; `expected` says what was expected. */
class FieldProblem extends Error {}

function show(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : (JSON.stringify(v) ?? String(v));
}

/** Checks and converts one value. Flag values arrive as strings (booleans as true). */
export function coerceField(type: FieldType, raw: unknown, fromFlag: boolean): unknown {
  const num = (): number => {
    const v = fromFlag && typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new FieldProblem('a number');
    return v;
  };
  switch (type.kind) {
    case 'int': {
      const min = type.min ?? 1;
      let v: number;
      try {
        v = num();
      } catch {
        v = NaN;
      }
      if (!Number.isSafeInteger(v) || v < min)
        throw new FieldProblem(min === 1 ? 'a positive integer' : `an integer >= ${min}`);
      return v;
    }
    case 'number': {
      const v = num();
      const lowOk =
        type.min === undefined || (type.exclusiveMin === true ? v > type.min : v >= type.min);
      if (!lowOk || (type.max !== undefined && v > type.max)) {
        const lo =
          type.min === undefined ? '' : `${type.exclusiveMin === true ? '>' : '>='} ${type.min}`;
        const hi = type.max === undefined ? '' : `<= ${type.max}`;
        throw new FieldProblem(`a number ${[lo, hi].filter(Boolean).join(' and ')}`);
      }
      return v;
    }
    case 'string':
      if (typeof raw !== 'string' || raw === '') throw new FieldProblem('a non-empty string');
      return raw;
    case 'enum':
      if (typeof raw !== 'string' || !type.values.includes(raw))
        throw new FieldProblem(`one of ${type.values.join(', ')}`);
      return raw;
    case 'boolean':
      if (raw === true || raw === false) return raw;
      if (fromFlag && (raw === 'true' || raw === 'false')) return raw === 'true';
      throw new FieldProblem('true or false');
    case 'workers':
      if (raw === 'auto') return 'auto';
      try {
        return coerceField({ kind: 'int', min: 0 }, raw, fromFlag);
      } catch {
        throw new FieldProblem('"auto" or an integer >= 0');
      }
    case 'list': {
      const list = fromFlag && typeof raw === 'string' ? raw.split(',').map((s) => s.trim()) : raw;
      if (
        !Array.isArray(list) ||
        list.length === 0 ||
        list.some((s) => typeof s !== 'string' || s === '')
      )
        throw new FieldProblem(
          fromFlag ? 'a comma-separated list' : 'a non-empty array of strings',
        );
      return list;
    }
    case 'dataset':
      try {
        return parseDatasetSpec(raw);
      } catch (e) {
        throw new FieldProblem(describeError(e));
      }
    case 'json': {
      let v = raw;
      if (fromFlag && typeof raw === 'string') {
        try {
          v = JSON.parse(raw) as unknown;
        } catch {
          throw new FieldProblem(`${type.describe} as JSON`);
        }
      }
      if (type.check !== undefined) {
        try {
          type.check(v);
        } catch (e) {
          throw new FieldProblem(`${type.describe} (${describeError(e)})`);
        }
      }
      return v;
    }
  }
}

function problemMessage(where: string, e: unknown, raw: unknown): string {
  if (e instanceof FieldProblem) {
    const m = e.message;
    // Dataset problems already name the value.
    return m.startsWith('dataset') ? `${where}: ${m}` : `${where}: expected ${m}, got ${show(raw)}`;
  }
  return `${where}: ${describeError(e)}`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Reads and parses a JSON config file.
 *
 * @throws CliError `INVALID_CONFIG` naming the file when it cannot be read or is not a JSON object
 */
export async function readConfigFile(file: string, cwd: string): Promise<Record<string, unknown>> {
  const abs = path.resolve(cwd, file);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (e) {
    throw new CliError(
      'INVALID_CONFIG',
      `config file ${file}: cannot be read (${describeError(e)})`,
      {
        cause: e,
        data: { path: file },
      },
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (e) {
    throw new CliError(
      'INVALID_CONFIG',
      `config file ${file}: not valid JSON (${describeError(e)})`,
      {
        cause: e,
        data: { path: file },
      },
    );
  }
  if (!isPlainObject(value))
    throw new CliError(
      'INVALID_CONFIG',
      `config file ${file}: expected a JSON object, got ${show(value)}`,
      {
        data: { path: file },
      },
    );
  return value;
}

/**
 * Validates a config object against the fields: every key must be a field (or an object holding
 * fields), every value must have the field's type. Returns the values by field key.
 *
 * @throws CliError `INVALID_CONFIG` naming the file and the field
 */
export function checkConfig(
  fields: readonly Field[],
  config: Record<string, unknown>,
  file: string,
): Settings {
  const out: Settings = {};
  const walk = (obj: Record<string, unknown>, prefix: string): void => {
    const here = fields
      .map((f) => f.key)
      .filter((k) => k.startsWith(prefix))
      .map((k) => k.slice(prefix.length).split('.')[0]!);
    try {
      checkOptions(
        obj,
        [...new Set(here)],
        `config file ${file}${prefix ? ` (${prefix.slice(0, -1)})` : ''}`,
      );
    } catch (e) {
      if (!isMlshipError(e)) throw e;
      const key = typeof e.data?.path === 'string' ? prefix + e.data.path : prefix.slice(0, -1);
      throw new CliError('INVALID_CONFIG', e.message.replace('unknown option', 'unknown field'), {
        cause: e,
        data: { ...e.data, path: key, file },
      });
    }
    for (const [k, v] of Object.entries(obj)) {
      const key = prefix + k;
      const field = fields.find((f) => f.key === key);
      if (field !== undefined) {
        try {
          out[key] = coerceField(field.type, v, false);
        } catch (e) {
          throw new CliError(
            'INVALID_CONFIG',
            problemMessage(`config file ${file}: field "${key}"`, e, v),
            {
              cause: e,
              data: { path: key, file },
            },
          );
        }
      } else if (isPlainObject(v)) {
        walk(v, `${key}.`);
      } else {
        throw new CliError(
          'INVALID_CONFIG',
          `config file ${file}: field "${key}": expected an object, got ${show(v)}`,
          {
            data: { path: key, file },
          },
        );
      }
    }
  };
  walk(config, '');
  return out;
}

/** The commander attribute name of each flagged field, after {@link addFieldOptions}. */
export type FlagNames = Map<string, { field: Field; flag: string }>;

/**
 * Adds one commander option per flagged field (no commander default, so an absent flag never
 * overrides the config file).
 */
export function addFieldOptions(cmd: Command, fields: readonly Field[]): FlagNames {
  const names: FlagNames = new Map();
  for (const field of fields) {
    if (field.flag === undefined) continue;
    const def = field.default === undefined ? '' : ` (default: ${show(field.default)})`;
    const opt = new Option(field.flag, `${field.help}${def}`);
    cmd.addOption(opt);
    names.set(opt.attributeName(), { field, flag: opt.long ?? field.flag });
  }
  return names;
}

/**
 * Resolves a command's settings: the config file (when `--config` was given), then flags over it,
 * then defaults; checks required fields.
 *
 * @throws CliError `INVALID_CONFIG` for the file, `USAGE` for a flag or a missing required setting
 */
export async function resolveSettings(
  fields: readonly Field[],
  names: FlagNames,
  opts: Record<string, unknown>,
  cwd: string,
): Promise<Settings> {
  const configFile = opts['config'];
  const settings: Settings =
    typeof configFile === 'string'
      ? checkConfig(fields, await readConfigFile(configFile, cwd), configFile)
      : {};
  for (const [attr, { field, flag }] of names) {
    const raw = opts[attr];
    if (raw === undefined) continue;
    try {
      settings[field.key] = coerceField(field.type, raw, true);
    } catch (e) {
      throw new CliError('USAGE', problemMessage(flag, e, raw), { cause: e, data: { path: flag } });
    }
  }
  for (const field of fields) {
    if (settings[field.key] === undefined && field.default !== undefined)
      settings[field.key] =
        field.type.kind === 'dataset' ? parseDatasetSpec(field.default) : field.default;
    if (settings[field.key] === undefined && field.required === true)
      throw new CliError(
        'USAGE',
        `missing setting "${field.key}": pass ${field.flag?.split(' ')[0] ?? 'it'} or set "${field.key}" in the config file`,
        { data: { path: field.key } },
      );
  }
  return settings;
}
