import { mkdtemp, rm, symlink, writeFile, mkdir, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extract } from 'tar-stream';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createLayer, layerFromDirectory, layerFromFiles } from './layer';
import { isContainerError } from './errors';

async function tarEntries(gz: Uint8Array): Promise<
  {
    name: string;
    type: string;
    mode: number;
    mtime: number;
    uid: number;
    gid: number;
    uname: string;
    linkname?: string | null;
    body: string;
  }[]
> {
  const out: {
    name: string;
    type: string;
    mode: number;
    mtime: number;
    uid: number;
    gid: number;
    uname: string;
    linkname?: string | null;
    body: string;
  }[] = [];
  const ex = extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (h, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => {
        if (Buffer.isBuffer(c)) chunks.push(c);
      });
      stream.on('end', () => {
        out.push({
          name: h.name,
          type: h.type ?? 'file',
          mode: h.mode ?? 0,
          mtime: (h.mtime?.getTime() ?? -1) / 1000,
          uid: h.uid ?? -1,
          gid: h.gid ?? -1,
          uname: h.uname ?? '',
          linkname: h.linkname,
          body: Buffer.concat(chunks).toString(),
        });
        next();
      });
    });
    ex.on('finish', () => resolve());
    ex.on('error', reject);
  });
  ex.end(gunzipSync(gz));
  await done;
  return out;
}

describe('createLayer', () => {
  it('gives byte-identical layers for the same entries in any order', async () => {
    const a = await createLayer(
      [
        { path: '/app/b.txt', data: 'b' },
        { path: '/app/a.txt', data: 'a' },
      ],
      { sourceDateEpoch: 0 },
    );
    const b = await createLayer(
      [
        { path: 'app/a.txt', data: 'a' },
        { path: '/app/b.txt', data: 'b' },
      ],
      { sourceDateEpoch: 0 },
    );
    expect(Buffer.from(a.data as Uint8Array).equals(Buffer.from(b.data as Uint8Array))).toBe(true);
    expect(a.descriptor.digest).toBe(b.descriptor.digest);
    expect(a.diffId).toBe(b.diffId);
    expect(a.descriptor.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip');
  });

  it('writes sorted entries with every parent directory, fixed owner, modes and the epoch as mtime', async () => {
    const layer = await createLayer(
      [
        { path: '/usr/local/bin/tool', data: '#!/bin/sh\n', mode: 0o755 },
        { path: '/etc/conf', data: 'x' },
        { path: '/usr/local/lib/link', type: 'symlink', linkname: '../bin/tool' },
      ],
      { sourceDateEpoch: 1_700_000_000 },
    );
    const entries = await tarEntries(layer.data as Uint8Array);
    expect(entries.map((e) => e.name)).toEqual([
      'etc/',
      'etc/conf',
      'usr/',
      'usr/local/',
      'usr/local/bin/',
      'usr/local/bin/tool',
      'usr/local/lib/',
      'usr/local/lib/link',
    ]);
    expect(
      entries.every(
        (e) => e.mtime === 1_700_000_000 && e.uid === 0 && e.gid === 0 && e.uname === '',
      ),
    ).toBe(true);
    expect(entries.find((e) => e.name === 'usr/local/bin/tool')?.mode).toBe(0o755);
    expect(entries.find((e) => e.name === 'etc/conf')?.mode).toBe(0o644);
    expect(entries.find((e) => e.name === 'usr/')?.mode).toBe(0o755);
    expect(entries.find((e) => e.name === 'usr/local/lib/link')?.linkname).toBe('../bin/tool');
  });

  it('reads SOURCE_DATE_EPOCH from the environment, and the epoch changes the digest', async () => {
    const zero = await layerFromFiles({ '/a': 'a' }, { env: {} });
    const env = await layerFromFiles({ '/a': 'a' }, { env: { SOURCE_DATE_EPOCH: '1000' } });
    const explicit = await layerFromFiles({ '/a': 'a' }, { sourceDateEpoch: 1000 });
    expect(env.descriptor.digest).toBe(explicit.descriptor.digest);
    expect(zero.descriptor.digest).not.toBe(env.descriptor.digest);
    expect((await tarEntries(env.data as Uint8Array))[0]?.mtime).toBe(1000);
  });

  it('keeps paths longer than 100 bytes (PAX headers)', async () => {
    const long = `/app/node_modules/${'x'.repeat(60)}/${'y'.repeat(60)}/${'z'.repeat(80)}.js`;
    const entries = await tarEntries((await layerFromFiles({ [long]: 'long' })).data as Uint8Array);
    expect(entries.find((e) => e.body === 'long')?.name).toBe(long.slice(1));
  });

  it.each([
    [[{ path: '/a/../etc/passwd', data: 'x' }], /without "\." or "\.\." components/],
    [
      [
        { path: '/a', data: 'x' },
        { path: 'a', data: 'y' },
      ],
      /appears twice/,
    ],
    [
      [
        { path: '/a', data: 'x' },
        { path: '/a/b', data: 'y' },
      ],
      /both a file and a parent directory/,
    ],
    [[{ path: '/a' }], /needs "data" or "source"/],
    [[{ path: '/a', data: 'x', mode: 0o10000 }], /permission bits/],
    [[{ path: '/l', type: 'symlink' as const }], /symlink's target/],
  ])('refuses bad entries with INVALID_OPTION: %j', async (entries, message) => {
    const e = await createLayer(entries).catch((x: unknown) => x);
    expect(isContainerError(e) && e.code === 'INVALID_OPTION').toBe(true);
    expect((e as Error).message).toMatch(message);
  });

  it('refuses unknown options, naming the nearest one', async () => {
    await expect(createLayer([], { compresionLevel: 9 } as never)).rejects.toThrow(
      /unknown option "compresionLevel" \(did you mean "compressionLevel"\?\)/,
    );
  });
});

describe('layerFromDirectory', () => {
  it('copies a host tree with executable bits and symlinks, and ignores host mtimes and owners', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mlship-layer-dir-'));
    try {
      await mkdir(join(dir, 'bin'));
      await writeFile(join(dir, 'bin/run'), '#!/bin/sh\necho hi\n');
      await chmod(join(dir, 'bin/run'), 0o700);
      await writeFile(join(dir, 'data.txt'), 'data');
      await chmod(join(dir, 'data.txt'), 0o600);
      await symlink('bin/run', join(dir, 'run'));
      const a = await layerFromDirectory(dir, '/opt/tool');
      const entries = await tarEntries(a.data as Uint8Array);
      expect(entries.map((e) => [e.name, e.type, e.mode.toString(8)])).toEqual([
        ['opt/', 'directory', '755'],
        ['opt/tool/', 'directory', '755'],
        ['opt/tool/bin/', 'directory', '755'],
        ['opt/tool/bin/run', 'file', '755'],
        ['opt/tool/data.txt', 'file', '644'],
        ['opt/tool/run', 'symlink', '777'],
      ]);
      await writeFile(join(dir, 'data.txt'), 'data'); // new mtime, same bytes
      const b = await layerFromDirectory(dir, '/opt/tool');
      expect(b.descriptor.digest).toBe(a.descriptor.digest);
      const filtered = await layerFromDirectory(dir, '/opt/tool', {
        filter: (rel) => rel !== 'data.txt',
      });
      expect(
        (await tarEntries(filtered.data as Uint8Array)).some((e) => e.name.endsWith('data.txt')),
      ).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('names a missing directory (READ_FAILED)', async () => {
    await expect(layerFromDirectory('/nonexistent/mlship', '/x')).rejects.toMatchObject({
      code: 'READ_FAILED',
      message: expect.stringMatching(/\/nonexistent\/mlship/),
    });
  });
});
