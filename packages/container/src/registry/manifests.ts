import { ContainerError } from '../errors';
import { isDigest, sha256Digest, verifyDigest } from '../digest';
import { MANIFEST_ACCEPT } from '../media-types';
import { errorBody } from './response';
import { checkRepository } from './transport';
import type { RegistryTransport } from './transport';
import type { FetchedManifest } from './types';

/** A manifest larger than this is refused (registries cap manifests at 4 MiB too). */
const MAX_MANIFEST_BYTES = 4 << 20;

function manifestUrl(
  t: RegistryTransport,
  registry: string,
  repository: string,
  reference: string,
): string {
  return `${t.repositoryUrl(registry, repository)}manifests/${encodeURIComponent(reference)}`;
}

/** The media type of a response, without parameters (`; charset=...`). */
function contentType(res: Response): string {
  return (res.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
}

/**
 * Checks the repository and sends a HEAD or GET for a manifest with every manifest and index media
 * type in `Accept`; `what` names it in errors.
 */
function requestManifest(
  t: RegistryTransport,
  registry: string,
  repository: string,
  reference: string,
  method: 'HEAD' | 'GET',
  what: string,
): Promise<Response> {
  checkRepository(repository);
  return t.request(registry, {
    method,
    url: manifestUrl(t, registry, repository, reference),
    headers: { accept: MANIFEST_ACCEPT },
    scopes: [`repository:${repository}:pull`],
    what,
  });
}

/**
 * Fetches a manifest or index by tag or digest with every manifest and index media type in
 * `Accept`, verified against the digest when fetched by one. @internal
 */
export async function getManifest(
  t: RegistryTransport,
  registry: string,
  repository: string,
  reference: string,
): Promise<FetchedManifest> {
  const what = `GET manifest ${registry}/${repository}${isDigest(reference) ? '@' : ':'}${reference}`;
  const res = await requestManifest(t, registry, repository, reference, 'GET', what);
  if (res.status === 404) {
    const body = await errorBody(res);
    throw new ContainerError(
      'MANIFEST_NOT_FOUND',
      `${what}: no such ${isDigest(reference) ? 'manifest' : 'tag'}${body.text ? ` (${body.text})` : ''}`,
      {
        data: { registry, repository, reference },
      },
    );
  }
  if (!res.ok) return t.fail(res, registry, what);
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (bytes.byteLength > MAX_MANIFEST_BYTES) {
    throw new ContainerError(
      'INVALID_IMAGE',
      `${what}: manifest of ${bytes.byteLength} bytes exceeds 4 MiB`,
      { data: { registry, repository, reference } },
    );
  }
  const digest = sha256Digest(bytes);
  if (isDigest(reference)) verifyDigest(bytes, reference, what);
  let mediaType = contentType(res);
  try {
    const doc = JSON.parse(new TextDecoder().decode(bytes)) as { mediaType?: unknown };
    if (typeof doc.mediaType === 'string' && doc.mediaType !== '') mediaType = doc.mediaType;
  } catch (e) {
    throw new ContainerError('INVALID_IMAGE', `${what}: the manifest is not JSON`, {
      cause: e,
      data: { registry, repository, reference },
    });
  }
  return { mediaType, bytes, digest };
}

/** HEADs a manifest: its digest, media type and size, or undefined when absent. @internal */
export async function headManifest(
  t: RegistryTransport,
  registry: string,
  repository: string,
  reference: string,
): Promise<{ digest?: string; mediaType: string; size: number } | undefined> {
  const what = `HEAD manifest ${registry}/${repository}:${reference}`;
  const res = await requestManifest(t, registry, repository, reference, 'HEAD', what);
  await res.body?.cancel();
  if (res.status === 404) return undefined;
  if (!res.ok) return t.fail(res, registry, what);
  const digest = res.headers.get('docker-content-digest');
  return {
    ...(digest !== null && isDigest(digest) ? { digest } : {}),
    mediaType: contentType(res),
    size: Number(res.headers.get('content-length') ?? 0),
  };
}

/**
 * Uploads a manifest under a tag or its digest with its media type as `Content-Type`, and checks
 * the digest the registry stored it under. @internal
 */
export async function putManifest(
  t: RegistryTransport,
  registry: string,
  repository: string,
  reference: string,
  bytes: Uint8Array,
  mediaType: string,
): Promise<{ digest: string; subjectAccepted: boolean }> {
  checkRepository(repository);
  const digest = sha256Digest(bytes);
  if (isDigest(reference) && reference !== digest) {
    throw new ContainerError(
      'DIGEST_MISMATCH',
      `PUT manifest: reference ${reference} is not the digest of the bytes (${digest})`,
      {
        data: { registry, repository, expected: reference, actual: digest },
      },
    );
  }
  const what = `PUT manifest ${registry}/${repository}${isDigest(reference) ? '@' : ':'}${reference}`;
  const res = await t.request(registry, {
    method: 'PUT',
    url: manifestUrl(t, registry, repository, reference),
    headers: { 'content-type': mediaType, 'content-length': String(bytes.byteLength) },
    body: bytes,
    scopes: [`repository:${repository}:pull,push`],
    what,
  });
  if (res.status !== 201 && res.status !== 200) return t.fail(res, registry, what);
  await res.body?.cancel();
  const stored = res.headers.get('docker-content-digest');
  if (stored !== null && stored !== digest) {
    throw new ContainerError(
      'DIGEST_MISMATCH',
      `${what}: the registry stored it as ${stored}, expected ${digest}`,
      {
        data: { registry, repository, expected: digest, actual: stored },
      },
    );
  }
  t.progress({
    action: 'manifest',
    registry,
    repository,
    digest,
    bytes: bytes.byteLength,
    total: bytes.byteLength,
    done: true,
  });
  return { digest, subjectAccepted: res.headers.get('oci-subject') !== null };
}

/** Lists a repository's tags (`GET /v2/<name>/tags/list`, following `Link` pagination). @internal */
export async function listTags(
  t: RegistryTransport,
  registry: string,
  repository: string,
): Promise<string[]> {
  checkRepository(repository);
  const tags: string[] = [];
  let url: string | undefined = `${t.repositoryUrl(registry, repository)}tags/list`;
  const what = `list tags of ${registry}/${repository}`;
  for (let page = 0; url !== undefined && page < 1000; page++) {
    const res: Response = await t.request(registry, {
      method: 'GET',
      url,
      scopes: [`repository:${repository}:pull`],
      what,
    });
    if (res.status === 404) {
      await res.body?.cancel();
      return tags;
    }
    if (!res.ok) return t.fail(res, registry, what);
    const json = (await res.json()) as { tags?: string[] | null };
    tags.push(...(json.tags ?? []));
    const link = res.headers.get('link');
    const m = link === null ? null : /<([^>]+)>\s*;\s*rel="?next"?/.exec(link);
    url = m?.[1] === undefined ? undefined : new URL(m[1], url).toString();
  }
  return tags;
}
