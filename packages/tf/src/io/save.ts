import { promises as fs } from 'node:fs';
import path from 'node:path';
import {
  MODEL_JSON_FILE,
  createFsAdapter,
  isCoreError,
  joinPath,
  sha256Hex,
  writeDirectoryAtomic,
} from '@mlship/core';
import type * as tf from '@tensorflow/tfjs';
import { TfError, describeError } from '../errors';
import { checkTfOptions } from '../options';
import { captureArtifacts, layoutPerLayer } from './layout';
import type { ExtraFiles, SaveModelOptions, SavedModel, WrittenFile } from './types';
import { checkExtraPath } from './validate';

const SAVE_OPTIONS: readonly (keyof SaveModelOptions)[] = ['overwrite', 'extraFiles'];

/**
 * Saves a LayersModel to a directory in the standard TensorFlow.js format, without tfjs-node:
 * `model.json` (topology + weights manifest) and one `<layer-name>.weights.bin` per layer that has
 * weights, so unchanged layers stay byte-identical across versions. The same weights always give
 * the same bytes. The write is atomic (`writeDirectoryAtomic` of `@mlship/core`): files go to a
 * hidden temporary sibling directory, are fsynced, and the directory is renamed onto `dir`; a crash
 * leaves either the old model or the new one at `dir`, never a half-written one. Stale temporary
 * directories of earlier crashed saves of the same `dir` are removed.
 *
 * @param model - the model to save (its optimizer state is not saved).
 * @param dir - the model directory to create (or replace, with `overwrite`).
 * @param options - `overwrite`, `extraFiles`.
 * @returns the directory and every file written, with sizes and sha256.
 * @throws TfError `SAVE_FAILED` when `dir` exists without `overwrite`, a weight cannot be encoded,
 *   the file system fails or `extraFiles` throws; `INVALID_OPTION` for an unknown option key or a
 *   bad extra file path or content.
 * @example
 * ```ts
 * await saveLayersModel(model, './models/cnn', {
 *   overwrite: true,
 *   extraFiles: (files) => ({ 'files.json': JSON.stringify(files) }),
 * });
 * ```
 */
export async function saveLayersModel(
  model: tf.LayersModel,
  dir: string,
  options: SaveModelOptions = {},
): Promise<SavedModel> {
  checkTfOptions(options, SAVE_OPTIONS, 'saveLayersModel options');
  const target = path.resolve(dir);
  const parent = path.dirname(target);
  const overwrite = options.overwrite ?? false;

  const artifacts = await captureArtifacts(model, 'SAVE_FAILED');
  const { modelJson, weightFiles } = layoutPerLayer(model, artifacts);

  await fs.mkdir(parent, { recursive: true }).catch((e: unknown) => {
    throw new TfError(
      'SAVE_FAILED',
      `Cannot create parent directory ${parent} of model dir ${target}: ${describeError(e)}`,
      {
        cause: e,
        data: { path: parent },
      },
    );
  });
  const io = createFsAdapter();
  const write = async (tmp: string, rel: string, bytes: Uint8Array): Promise<WrittenFile> => {
    const file = joinPath(tmp, rel);
    if (rel.includes('/')) await io.mkdirp(path.dirname(file));
    await io.writeFile(file, bytes, { fsync: true, exclusive: true });
    return { path: rel, bytes: bytes.byteLength, sha256: sha256Hex(bytes) };
  };
  try {
    const files = await writeDirectoryAtomic(
      target,
      async (tmp) => {
        try {
          const files: WrittenFile[] = [];
          files.push(await write(tmp, MODEL_JSON_FILE, new TextEncoder().encode(modelJson)));
          for (const file of weightFiles) files.push(await write(tmp, file.path, file.bytes));
          if (options.extraFiles !== undefined) {
            const extra = await callExtraFiles(options.extraFiles, files, target);
            const taken = new Set(files.map((f) => f.path));
            for (const rel of Object.keys(extra).sort()) {
              checkExtraPath(rel, taken, target);
              taken.add(rel);
              files.push(await write(tmp, rel, extraBytes(extra, rel)));
            }
          }
          return files;
        } catch (e) {
          if (e instanceof TfError) throw e;
          const p = (e as { path?: unknown }).path;
          throw new TfError(
            'SAVE_FAILED',
            `Saving model to ${target} failed: ${describeError(e)}`,
            {
              cause: e,
              data: { path: typeof p === 'string' ? p : target },
            },
          );
        }
      },
      { overwrite, fs: io },
    );
    return { dir: target, files };
  } catch (e) {
    if (!isCoreError(e)) throw e;
    if (e.data?.['reason'] === 'exists') {
      throw new TfError(
        'SAVE_FAILED',
        `Model dir ${target} already exists; pass { overwrite: true } to replace it`,
        { cause: e, data: { path: target } },
      );
    }
    throw new TfError('SAVE_FAILED', `Saving model to ${target} failed: ${e.message}`, {
      cause: e,
      data: { path: typeof e.data?.path === 'string' ? e.data.path : target },
    });
  }
}

async function callExtraFiles(
  extraFiles: NonNullable<SaveModelOptions['extraFiles']>,
  written: readonly WrittenFile[],
  target: string,
): Promise<ExtraFiles> {
  try {
    return await extraFiles(written.map((f) => ({ ...f })));
  } catch (e) {
    throw new TfError(
      'SAVE_FAILED',
      `extraFiles callback failed while saving ${target}: ${describeError(e)}`,
      {
        cause: e,
        data: { path: target },
      },
    );
  }
}

function extraBytes(extra: ExtraFiles, rel: string): Uint8Array {
  const content = extra[rel];
  const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content;
  if (!(bytes instanceof Uint8Array)) {
    throw new TfError(
      'INVALID_OPTION',
      `extraFiles[${JSON.stringify(rel)}] is ${typeof content}; expected a string or Uint8Array`,
      {
        data: { path: rel },
      },
    );
  }
  return bytes;
}
