import type { PipelineConfig } from './config';

/** What every stage gets: the settings, the folders, and a way to say what is happening. */
export interface Run {
  cfg: PipelineConfig;
  dirs: { out: string; registry: string; models: string; image: string; k8s: string };
  /** A line of progress on stderr (stdout carries only the summary). */
  log: (line: string) => void;
}

/** Wall seconds since `t0` (a `performance.now()` value). */
export const since = (t0: number): number => (performance.now() - t0) / 1000;

/** `0.9841` -> `98.41 %`. */
export const pct = (x: number): string => `${(x * 100).toFixed(2)} %`;

/** The quality gate refused the candidate: the pipeline stops with exit code 3. */
export class GateFailed extends Error {}
