import { ContainerError } from '../errors';
import { sha256Digest } from '../digest';
import { hasBlob } from './blobs';
import { checkDigestArg, checkRepository } from './transport';
import type { RegistryTransport } from './transport';
import type { UploadResult } from './types';

/** Options of {@link uploadBlob} (documented on `RegistryClient.uploadBlob`). @internal */
export interface UploadBlobOptions {
  digest?: string;
  size?: number;
  mountFrom?: string;
  skipExisting?: boolean;
}

/** One blob upload in progress: where it goes and what it is, for requests and events. */
interface Upload {
  t: RegistryTransport;
  registry: string;
  repository: string;
  digest: string;
  scopes: string[];
  what: string;
}

/** The upload `Location` of a response, resolved against the request URL (it may be relative). */
function locationOf(res: Response, requestUrl: string, registry: string, what: string): string {
  const loc = res.headers.get('location');
  if (loc === null || loc === '') {
    throw new ContainerError(
      'REGISTRY_ERROR',
      `${what}: ${registry} answered ${res.status} without a Location header`,
      {
        data: { registry, status: res.status },
      },
    );
  }
  return new URL(loc, requestUrl).toString();
}

/**
 * Starts an upload session (POST), asking for a cross-repository mount first when `mountFrom`
 * names another repository: `mounted` when the registry mounted it (201), else the session's
 * `Location` (a registry that cannot mount opens a session instead).
 */
async function start(
  u: Upload,
  uploads: string,
  mountFrom: string | undefined,
): Promise<'mounted' | { location: string }> {
  const { t, registry, digest, scopes, what } = u;
  let res: Response;
  if (mountFrom !== undefined && mountFrom !== u.repository) {
    checkRepository(mountFrom);
    const url = new URL(uploads);
    url.searchParams.set('mount', digest);
    url.searchParams.set('from', mountFrom);
    res = await t.request(registry, {
      method: 'POST',
      url: url.toString(),
      headers: { 'content-length': '0' },
      scopes: [...scopes, `repository:${mountFrom}:pull`],
      what,
    });
    if (res.status === 201) {
      await res.body?.cancel();
      return 'mounted';
    }
  } else {
    res = await t.request(registry, {
      method: 'POST',
      url: uploads,
      headers: { 'content-length': '0' },
      scopes,
      what,
    });
  }
  if (res.status !== 202) return t.fail(res, registry, what);
  await res.body?.cancel();
  return { location: locationOf(res, uploads, registry, what) };
}

/**
 * Sends `data` in chunks (PATCH with Content-Range), following the new `Location` each chunk
 * answers with (it may carry new state, be absolute, or carry a query string).
 *
 * @returns the `Location` that closes the upload (PUT with the digest), and the bytes sent
 */
async function sendChunks(
  u: Upload,
  location: string,
  data: Uint8Array,
  chunkSize: number,
): Promise<{ location: string; sent: number }> {
  const { t, registry, repository, digest, scopes, what } = u;
  const total = data.byteLength;
  let sent = 0;
  while (sent < total) {
    const end = Math.min(sent + chunkSize, total);
    const res = await t.request(registry, {
      method: 'PATCH',
      url: location,
      headers: {
        'content-type': 'application/octet-stream',
        'content-range': `${sent}-${end - 1}`,
        'content-length': String(end - sent),
      },
      body: data.subarray(sent, end),
      scopes,
      what,
    });
    if (res.status !== 202) return t.fail(res, registry, `${what} (chunk ${sent}-${end - 1})`);
    await res.body?.cancel();
    location = locationOf(res, location, registry, what);
    sent = end;
    if (sent < total)
      t.progress({
        action: 'upload',
        registry,
        repository,
        digest,
        bytes: sent,
        total,
        done: false,
      });
  }
  return { location, sent };
}

/**
 * Uploads a blob unless the repository already has it: HEAD (skip), cross-repository mount,
 * then a monolithic (POST + PUT) or chunked (POST, PATCH per chunk, PUT) upload. @internal
 */
export async function uploadBlob(
  t: RegistryTransport,
  registry: string,
  repository: string,
  source: Uint8Array | (() => Promise<Uint8Array>),
  options: UploadBlobOptions,
): Promise<UploadResult> {
  checkRepository(repository);
  if (typeof source === 'function' && options.digest === undefined) {
    throw new ContainerError(
      'INVALID_OPTION',
      'uploadBlob: a lazily read blob needs options.digest',
      {
        data: { path: 'digest' },
      },
    );
  }
  const digest = options.digest ?? sha256Digest(source as Uint8Array);
  checkDigestArg(digest, 'digest');
  const known = typeof source === 'function' ? (options.size ?? 0) : source.byteLength;
  // The blob needs no bytes sent: already there, or mounted from another repository.
  const nothingSent = (action: 'skip' | 'mount'): void =>
    t.progress({ action, registry, repository, digest, bytes: 0, total: known, done: true });
  if (options.skipExisting !== false && (await hasBlob(t, registry, repository, digest))) {
    nothingSent('skip');
    return { status: 'exists', bytes: 0 };
  }
  const u: Upload = {
    t,
    registry,
    repository,
    digest,
    scopes: [`repository:${repository}:pull,push`],
    what: `upload blob ${digest} to ${registry}/${repository}`,
  };
  const session = await start(
    u,
    `${t.repositoryUrl(registry, repository)}blobs/uploads/`,
    options.mountFrom,
  );
  if (session === 'mounted') {
    nothingSent('mount');
    return { status: 'mounted', bytes: 0 };
  }
  const data = typeof source === 'function' ? await source() : source;
  const total = data.byteLength;
  const chunkSize = t.options.chunkSize;
  const { location, sent } =
    chunkSize !== undefined && total > chunkSize
      ? await sendChunks(u, session.location, data, chunkSize)
      : { location: session.location, sent: 0 };
  const put = new URL(location);
  put.searchParams.append('digest', digest);
  const rest = data.subarray(sent);
  const res = await t.request(registry, {
    method: 'PUT',
    url: put.toString(),
    headers: {
      'content-type': 'application/octet-stream',
      'content-length': String(rest.byteLength),
    },
    body: rest,
    scopes: u.scopes,
    what: u.what,
  });
  if (res.status !== 201) return t.fail(res, registry, u.what);
  await res.body?.cancel();
  const echoed = res.headers.get('docker-content-digest');
  if (echoed !== null && echoed !== digest) {
    throw new ContainerError('DIGEST_MISMATCH', `${u.what}: the registry stored it as ${echoed}`, {
      data: { registry, repository, digest, actual: echoed },
    });
  }
  t.progress({ action: 'upload', registry, repository, digest, bytes: total, total, done: true });
  return { status: 'uploaded', bytes: total };
}
