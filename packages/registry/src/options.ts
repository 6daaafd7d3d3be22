import { checkOptions } from '@mlship/core';
import { RegistryError } from './errors';

/**
 * @internal Refuses an options object with a key the function does not read (a misspelt option in
 * plain JavaScript would otherwise be silently ignored): `INVALID_OPTION` naming the key and the
 * accepted ones, via @mlship/core's `checkOptions`.
 */
export function checkKeys(options: unknown, accepted: readonly string[], where: string): void {
  checkOptions(options, accepted, where, RegistryError);
}

/** @internal The accepted keys of each public options object. */
export const OPTION_KEYS = {
  open: ['dir', 'gitdir', 'create', 'bare', 'fs', 'author', 'clock', 'branch', 'lock', 'readOnly'],
  lock: ['timeoutMs', 'staleMs'],
  author: ['name', 'email'],
  register: ['metrics', 'params', 'datasets', 'parent', 'strategy', 'tags', 'message', 'stages'],
  event: ['message'],
  checkout: ['overwrite'],
  remote: ['url', 'remote', 'auth', 'headers', 'http', 'onProgress'],
  pull: ['url', 'remote', 'auth', 'headers', 'http', 'onProgress', 'conflicts'],
  auth: ['username', 'password'],
  formatDiff: ['all'],
} as const satisfies Record<string, readonly string[]>;

/** @internal A non-empty string, or INVALID_OPTION naming `what`. */
export function checkString(value: unknown, what: string): asserts value is string {
  if (typeof value !== 'string' || value === '') {
    throw new RegistryError(
      'INVALID_OPTION',
      `${what}: expected a non-empty string, got ${value === '' ? 'an empty string' : (JSON.stringify(value) ?? String(value))}`,
      { data: { path: what, expected: 'non-empty string' } },
    );
  }
}
