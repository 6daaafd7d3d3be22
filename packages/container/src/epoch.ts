import { ContainerError } from './errors';

/** Options every reproducible builder reads to fix timestamps. */
export interface EpochOptions {
  /**
   * Seconds since 1970 used for every file mtime and the image's `created` time. Default: the
   * `SOURCE_DATE_EPOCH` environment variable (reproducible-builds.org) when set, else 0.
   */
  sourceDateEpoch?: number;
  /** Environment to read `SOURCE_DATE_EPOCH` from (default `process.env`). */
  env?: Record<string, string | undefined>;
}

/** The epoch in seconds the options ask for. @internal */
export function resolveEpoch(options: EpochOptions): number {
  let value: unknown = options.sourceDateEpoch;
  let where = 'sourceDateEpoch';
  if (value === undefined) {
    const env = options.env ?? process.env;
    const raw = env.SOURCE_DATE_EPOCH;
    if (raw === undefined || raw === '') return 0;
    value = /^[0-9]+$/.test(raw) ? Number(raw) : raw;
    where = 'SOURCE_DATE_EPOCH';
  }
  if (
    typeof value !== 'number' ||
    !Number.isSafeInteger(value) ||
    value < 0 ||
    value > 8 ** 11 - 1
  ) {
    throw new ContainerError(
      'INVALID_OPTION',
      `${where}: expected a whole number of seconds since 1970 (0 to 8589934591), got ${JSON.stringify(value)}`,
      { data: { path: where, actual: value } },
    );
  }
  return value;
}

/** RFC 3339 form of an epoch (what OCI `created` fields hold). @internal */
export function epochToRfc3339(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
}
