import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  appendFile,
  mkdir,
  mkdtemp,
  readFile,
  rm,
  symlink,
  truncate,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createFsFromVolume, Volume } from 'memfs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeModelDir } from '../test/model-dir-fixture';
import { isCoreError } from './errors';
import { createFsAdapter } from './fs';
import type { MlshipFs } from './fs';
import {
  listModelDirFiles,
  readModelFiles,
  readModelMeta,
  verifyModelFileSet,
  verifyModelFiles,
} from './model-dir';

let root: string;
let dir: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'mlship-core-'));
  dir = path.join(root, 'cnn');
  await writeModelDir(dir);
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Runs `fn` and returns the CoreError it throws (failing when it does not throw one). */
async function failure(
  fn: () => Promise<unknown>,
): Promise<{ code: string; message: string; data: Record<string, unknown> }> {
  try {
    await fn();
  } catch (e) {
    if (!isCoreError(e)) throw e;
    return { code: e.code, message: e.message, data: e.data ?? {} };
  }
  throw new Error('expected a CoreError, got success');
}

const verifiers = [
  ['verifyModelFiles', verifyModelFiles],
  ['readModelFiles', readModelFiles],
] as const;

describe.each(verifiers)('%s', (_name, verify) => {
  it('accepts an intact directory and lists every file with its sha256, mlship.json last', async () => {
    const { meta, files } = await verify(dir);
    expect(meta.name).toBe('cnn');
    expect(files.map((f) => f.path)).toEqual([
      'features_conv1.weights.bin',
      'head_output.weights.bin',
      'model.json',
      'mlship.json',
    ]);
    expect(files[0]).toMatchObject({
      bytes: 1280,
      sha256: meta.files['features_conv1.weights.bin']!.sha256,
    });
  });

  it.each([
    [
      'a truncated weight file',
      () => truncate(path.join(dir, 'head_output.weights.bin'), 100),
      { reason: 'size', path: 'head_output.weights.bin', expected: 440, actual: 100 },
      /expected 440 bytes .*got 100 \(truncated\)/,
    ],
    [
      'a same-size tampered weight file',
      () => writeFile(path.join(dir, 'head_output.weights.bin'), new Uint8Array(440).fill(9)),
      { reason: 'sha256', path: 'head_output.weights.bin' },
      /the file was modified/,
    ],
    [
      'a missing listed file',
      () => rm(path.join(dir, 'features_conv1.weights.bin')),
      { reason: 'missing', path: 'features_conv1.weights.bin' },
      /listed in mlship.json \(1280 bytes\) but missing/,
    ],
    [
      'an unlisted extra file',
      () => writeFile(path.join(dir, 'extra.bin'), 'x'),
      { reason: 'unlisted', path: 'extra.bin' },
      /extra.bin: not listed in mlship.json files/,
    ],
    [
      'an unlisted file in a subdirectory',
      async () => {
        await mkdir(path.join(dir, 'sub'));
        await writeFile(path.join(dir, 'sub', 'x.bin'), 'x');
      },
      { reason: 'unlisted', path: 'sub/x.bin' },
      /sub\/x.bin: not listed/,
    ],
    [
      'a weight file that is a symlink to a file outside the directory (same bytes)',
      async () => {
        const outside = path.join(root, 'outside.bin');
        await writeFile(outside, new Uint8Array(440).fill(2));
        await rm(path.join(dir, 'head_output.weights.bin'));
        await symlink(outside, path.join(dir, 'head_output.weights.bin'));
      },
      { reason: 'not-regular', path: 'head_output.weights.bin', actual: 'symlink' },
      /expected a regular file inside the model directory, found a symlink/,
    ],
    [
      'a symlinked subdirectory (never walked)',
      async () => {
        await mkdir(path.join(root, 'elsewhere'));
        await symlink(path.join(root, 'elsewhere'), path.join(dir, 'linked'));
      },
      { reason: 'not-regular', path: 'linked' },
      /found a symlink/,
    ],
    [
      'a symlink loop',
      async () => {
        await symlink(path.join(dir, 'loop'), path.join(dir, 'loop'));
      },
      { reason: 'not-regular', path: 'loop' },
      /found a symlink/,
    ],
    [
      'a weight file that is a symlink to /dev/zero',
      async () => {
        await rm(path.join(dir, 'head_output.weights.bin'));
        await symlink('/dev/zero', path.join(dir, 'head_output.weights.bin'));
      },
      { reason: 'not-regular', path: 'head_output.weights.bin' },
      /found a symlink/,
    ],
    [
      'a FIFO in place of a weight file (would block a plain read forever)',
      async () => {
        await rm(path.join(dir, 'head_output.weights.bin'));
        execFileSync('mkfifo', [path.join(dir, 'head_output.weights.bin')]);
      },
      { reason: 'not-regular', path: 'head_output.weights.bin', actual: 'other' },
      /expected a regular file inside the model directory, found a FIFO, socket or device/,
    ],
  ])('refuses %s with INTEGRITY naming the file', async (_what, tamper, data, message) => {
    await tamper();
    const e = await failure(() => verify(dir));
    expect(e.code).toBe('INTEGRITY');
    expect(e.data).toMatchObject(data);
    expect(e.message).toMatch(message);
  });

  it('refuses mlship.json that is a symlink (its content could come from anywhere)', async () => {
    const real = path.join(root, 'meta.json');
    await writeFile(real, await readFile(path.join(dir, 'mlship.json')));
    await rm(path.join(dir, 'mlship.json'));
    await symlink(real, path.join(dir, 'mlship.json'));
    const e = await failure(() => verify(dir));
    expect(e).toMatchObject({
      code: 'INTEGRITY',
      data: { reason: 'not-regular', path: 'mlship.json' },
    });
  });

  it('refuses a model.json whose weight path mlship.json does not list', async () => {
    // model.json names 'ghost.bin', which is neither present nor listed; its own hash is updated.
    const json = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8')) as {
      weightsManifest: { paths: string[]; weights: unknown[] }[];
    };
    json.weightsManifest.push({ paths: ['ghost.bin'], weights: [] });
    const bytes = JSON.stringify(json);
    await writeFile(path.join(dir, 'model.json'), bytes);
    const meta = JSON.parse(await readFile(path.join(dir, 'mlship.json'), 'utf8')) as {
      files: Record<string, unknown>;
    };
    meta.files['model.json'] = {
      sha256: createHash('sha256').update(bytes).digest('hex'),
      bytes: Buffer.byteLength(bytes),
    };
    await writeFile(path.join(dir, 'mlship.json'), JSON.stringify(meta));
    const e = await failure(() => verify(dir));
    expect(e).toMatchObject({ code: 'INTEGRITY', data: { reason: 'unlisted', path: 'ghost.bin' } });
    expect(e.message).toMatch(/weight file "ghost.bin" is not listed in mlship.json files/);
  });

  it.each([
    ['a missing directory', (d: string) => rm(d, { recursive: true }), /it does not exist/],
    [
      'a directory without mlship.json',
      (d: string) => rm(path.join(d, 'mlship.json')),
      /mlship.json is missing/,
    ],
    [
      'a file instead of a directory',
      async (d: string) => {
        await rm(d, { recursive: true });
        await writeFile(d, 'x');
      },
      /it is not a directory/,
    ],
  ])('says NOT_A_MODEL_DIR for %s', async (_what, change, message) => {
    await change(dir);
    const e = await failure(() => verify(dir));
    expect(e.code).toBe('NOT_A_MODEL_DIR');
    expect(e.message).toMatch(message);
  });

  it('says INVALID_META for mlship.json that is not JSON', async () => {
    await appendFile(path.join(dir, 'mlship.json'), '}{');
    const e = await failure(() => verify(dir));
    expect(e.code).toBe('INVALID_META');
    expect(e.message).toMatch(/expected JSON, got a parse error/);
  });
});

describe('readModelFiles', () => {
  it('returns exactly the verified bytes', async () => {
    const { files } = await readModelFiles(dir);
    const conv = files.find((f) => f.path === 'features_conv1.weights.bin');
    expect(conv?.data).toEqual(new Uint8Array(1280).fill(1));
  });

  it('names a file over maxFileBytes as over the limit, not as missing', async () => {
    const e = await failure(() => readModelFiles(dir, { maxFileBytes: 1000 }));
    expect(e).toMatchObject({
      code: 'INTEGRITY',
      data: { reason: 'size', path: 'features_conv1.weights.bin', actual: 1280, expected: 1000 },
    });
    expect(e.message).toMatch(/1280 bytes is over the read limit of 1000 bytes/);
  });
});

describe('verifyModelFiles', () => {
  it('hashes a file larger than one chunk correctly (streamed)', async () => {
    const big = new Uint8Array(3 * (1 << 20) + 17);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 255;
    const d = path.join(root, 'big');
    await writeModelDir(d, { weights: { 'big.weights.bin': big } });
    const { files } = await verifyModelFiles(d);
    expect(files.find((f) => f.path === 'big.weights.bin')?.bytes).toBe(big.byteLength);
  });
});

describe('readModelMeta and listModelDirFiles', () => {
  it('reads the metadata alone', async () => {
    const meta = await readModelMeta(dir);
    expect(meta.labels).toEqual(['0', '1']);
  });

  it('lists regular files recursively, sorted', async () => {
    await mkdir(path.join(dir, 'a'));
    await writeFile(path.join(dir, 'a', 'b.bin'), 'x');
    expect(await listModelDirFiles(dir)).toEqual([
      'a/b.bin',
      'features_conv1.weights.bin',
      'head_output.weights.bin',
      'mlship.json',
      'model.json',
    ]);
  });
});

describe('over an injected fs (memfs)', () => {
  it('verifies and detects tampering the same way', async () => {
    const vol = new Volume();
    const fs = createFsFromVolume(vol) as unknown as MlshipFs;
    const real = await readModelFiles(dir);
    vol.mkdirSync('/m', { recursive: true });
    for (const f of real.files) vol.writeFileSync(`/m/${f.path}`, f.data);
    const io = createFsAdapter(fs);
    expect((await verifyModelFiles('/m', { fs: io })).files).toHaveLength(4);
    vol.writeFileSync('/m/head_output.weights.bin', new Uint8Array(440).fill(7));
    const e = await failure(() => verifyModelFiles('/m', { fs: io }));
    expect(e).toMatchObject({ code: 'INTEGRITY', data: { reason: 'sha256' } });
  });
});

describe('verifyModelFileSet (files held in memory, e.g. read from git)', () => {
  async function set(): Promise<Map<string, Uint8Array>> {
    return new Map((await readModelFiles(dir)).files.map((f) => [f.path, f.data]));
  }

  it('accepts an intact set', async () => {
    expect(verifyModelFileSet(await set(), 'cnn@v1.0.0').meta.name).toBe('cnn');
  });

  it.each([
    [
      'an unsafe path',
      (m: Map<string, Uint8Array>) => m.set('../x', new Uint8Array()),
      'unsafe-path',
    ],
    [
      'an unlisted file',
      (m: Map<string, Uint8Array>) => m.set('x.bin', new Uint8Array()),
      'unlisted',
    ],
    ['a missing file', (m: Map<string, Uint8Array>) => m.delete('model.json'), 'missing'],
    [
      'a tampered file',
      (m: Map<string, Uint8Array>) => m.set('head_output.weights.bin', new Uint8Array(440)),
      'sha256',
    ],
  ])('refuses %s', async (_what, change, reason) => {
    const m = await set();
    change(m);
    const e = await failure(() =>
      Promise.resolve().then(() => verifyModelFileSet(m, 'cnn@v1.0.0')),
    );
    expect(e).toMatchObject({ code: 'INTEGRITY', data: { reason } });
  });

  it('says NOT_A_MODEL_DIR without mlship.json', async () => {
    const m = await set();
    m.delete('mlship.json');
    expect(
      (await failure(() => Promise.resolve().then(() => verifyModelFileSet(m, 'x')))).code,
    ).toBe('NOT_A_MODEL_DIR');
  });
});
