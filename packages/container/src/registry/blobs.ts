import { ContainerError } from '../errors';
import { verifyDigest } from '../digest';
import { checkDigestArg, checkRepository } from './transport';
import type { RegistryTransport } from './transport';

/** Whether the repository has a blob (HEAD). @internal */
export async function hasBlob(
  t: RegistryTransport,
  registry: string,
  repository: string,
  digest: string,
): Promise<boolean> {
  checkRepository(repository);
  checkDigestArg(digest, 'digest');
  const what = `HEAD blob ${digest} in ${registry}/${repository}`;
  const res = await t.request(registry, {
    method: 'HEAD',
    url: `${t.repositoryUrl(registry, repository)}blobs/${digest}`,
    scopes: [`repository:${repository}:pull`],
    what,
  });
  await res.body?.cancel();
  if (res.status === 200) return true;
  if (res.status === 404) return false;
  return t.fail(res, registry, what);
}

/**
 * Downloads a blob, reporting progress every MiB, and verifies it against its digest (and size,
 * when given; more bytes than that stop the download). @internal
 */
export async function getBlob(
  t: RegistryTransport,
  registry: string,
  repository: string,
  digest: string,
  size?: number,
): Promise<Uint8Array> {
  checkRepository(repository);
  checkDigestArg(digest, 'digest');
  const what = `GET blob ${digest} from ${registry}/${repository}`;
  const res = await t.request(registry, {
    method: 'GET',
    url: `${t.repositoryUrl(registry, repository)}blobs/${digest}`,
    scopes: [`repository:${repository}:pull`],
    what,
  });
  if (res.status === 404) {
    await res.body?.cancel();
    throw new ContainerError('BLOB_NOT_FOUND', `${what}: no such blob`, {
      data: { registry, repository, digest },
    });
  }
  if (!res.ok) return t.fail(res, registry, what);
  const total = size ?? Number(res.headers.get('content-length') ?? 0);
  const chunks: Uint8Array[] = [];
  let got = 0;
  let lastReport = 0;
  if (res.body) {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      chunks.push(chunk);
      got += chunk.byteLength;
      if (size !== undefined && got > size) {
        throw new ContainerError(
          'DIGEST_MISMATCH',
          `${what}: expected ${size} bytes, the registry sent more`,
          {
            data: { registry, repository, digest, expected: size },
          },
        );
      }
      if (got - lastReport >= 1 << 20) {
        lastReport = got;
        t.progress({
          action: 'download',
          registry,
          repository,
          digest,
          bytes: got,
          total,
          done: false,
        });
      }
    }
  }
  const data = Buffer.concat(chunks);
  verifyDigest(data, digest, `${what}`, size);
  t.progress({
    action: 'download',
    registry,
    repository,
    digest,
    bytes: got,
    total: got,
    done: true,
  });
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
