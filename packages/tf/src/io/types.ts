import type * as tf from '@tensorflow/tfjs';

/** A file written by {@link saveLayersModel}. */
export interface WrittenFile {
  /** Path relative to the model directory, posix separators. */
  path: string;
  /** Size in bytes. */
  bytes: number;
  /** sha256 of the content, lowercase hex. */
  sha256: string;
}

/** What {@link saveLayersModel} wrote. */
export interface SavedModel {
  /** The model directory (absolute). */
  dir: string;
  /** Every file written: model.json, the weight files in layer order, then extra files by name. */
  files: WrittenFile[];
}

/** Extra files to add to a save: relative posix path -> content (a string is written as UTF-8). */
export type ExtraFiles = Record<string, string | Uint8Array>;

/** Options of {@link saveLayersModel}. */
export interface SaveModelOptions {
  /** Replace an existing directory (still atomically). Default false: an existing `dir` is an error. */
  overwrite?: boolean;
  /**
   * Adds files (e.g. `mlship.json`) to the same atomic write, computed from the files already
   * written (model.json and weights, with sizes and sha256). Paths are relative and posix; they may
   * not replace model.json or a weight file.
   */
  extraFiles?: (written: readonly WrittenFile[]) => ExtraFiles | Promise<ExtraFiles>;
}

/** Options of {@link loadLayersModel}. */
export interface LoadModelOptions {
  /** Require every weight of the manifest to match a weight of the topology and vice versa. Default true. */
  strict?: boolean;
}

/** @internal One `weightsManifest` group of model.json: its files and the weights they hold, in order. */
export interface ManifestGroup {
  paths: string[];
  weights: tf.io.WeightsManifestEntry[];
}

/** @internal A validated model.json. */
export interface ModelJson {
  modelTopology: object;
  weightsManifest: ManifestGroup[];
  generatedBy?: unknown;
  convertedBy?: unknown;
  trainingConfig?: unknown;
  userDefinedMetadata?: unknown;
}
