import { ContainerError } from '../errors';
import { verifyDigest } from '../digest';
import { checkDigestArg, checkRepository } from './transport';
import type { RegistryTransport } from './transport';

/** Checks the arguments and sends a HEAD or GET for a blob; `what` names it in errors. */
function requestBlob(
  t: RegistryTransport,
  registry: string,
  repository: string,
  digest: string,
  method: 'HEAD' | 'GET',
  what: string,
): Promise<Response> {
  checkRepository(repository);
  checkDigestArg(digest, 'digest');
  return t.request(registry, {
    method,
    url: `${t.repositoryUrl(registry, repository)}blobs/${digest}`,
    scopes: [`repository:${repository}:pull`],
    what,
  });
}

/** Whether the repository has a blob (HEAD). @internal */
export async function hasBlob(
  t: RegistryTransport,
  registry: string,
  repository: string,
  digest: string,
): Promise<boolean> {
  const what = `HEAD blob ${digest} in ${registry}/${repository}`;
  const res = await requestBlob(t, registry, repository, digest, 'HEAD', what);
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
  const what = `GET blob ${digest} from ${registry}/${repository}`;
  const res = await requestBlob(t, registry, repository, digest, 'GET', what);
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
  const downloaded = (of: number, done: boolean): void =>
    t.progress({ action: 'download', registry, repository, digest, bytes: got, total: of, done });
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
        downloaded(total, false);
      }
    }
  }
  const data = Buffer.concat(chunks);
  verifyDigest(data, digest, `${what}`, size);
  downloaded(got, true);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
