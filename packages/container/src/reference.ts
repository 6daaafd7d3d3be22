import { ContainerError } from './errors';
import { isDigest } from './digest';

/** A parsed image reference: where an image lives and which one. */
export interface ImageReference {
  /** Registry host and optional port, e.g. `ghcr.io`, `127.0.0.1:5000`, `docker.io`. */
  registry: string;
  /** Repository path, e.g. `library/node`, `acme/cnn-server`. */
  repository: string;
  /** Tag, when given (`latest` is assumed only when neither tag nor digest is given). */
  tag?: string;
  /** Digest, when given: `sha256:...`. */
  digest?: string;
}

/** The registry Docker Hub references without a registry part resolve to. */
export const DOCKER_HUB = 'docker.io';

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;

function bad(ref: string, why: string): ContainerError {
  return new ContainerError(
    'INVALID_REFERENCE',
    `invalid image reference ${JSON.stringify(ref)}: ${why} (expected [registry/]repository[:tag][@sha256:digest], e.g. 127.0.0.1:5000/acme/cnn:v1)`,
    { data: { reference: ref } },
  );
}

/**
 * Parses an image reference the way Docker does: a first component with a `.` or `:` or equal to
 * `localhost` is the registry, otherwise the image is on Docker Hub (`node` becomes
 * `docker.io/library/node`); no tag and no digest means `latest`.
 *
 * @param ref - e.g. `node:20-slim`, `127.0.0.1:5000/acme/cnn:v2`, `ghcr.io/a/b@sha256:...`
 * @returns the parts
 * @throws ContainerError `INVALID_REFERENCE` naming the reference and what is wrong
 * @example
 * ```ts
 * parseReference('node:20-slim'); // { registry: 'docker.io', repository: 'library/node', tag: '20-slim' }
 * ```
 */
export function parseReference(ref: string): ImageReference {
  if (typeof ref !== 'string' || ref.length === 0) throw bad(String(ref), 'empty');
  if (ref.length > 4096) throw bad(ref.slice(0, 64), 'longer than 4096 characters');
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isDigest(digest))
      throw bad(ref, `digest ${JSON.stringify(digest)} is not sha256:<64 hex>`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag))
      throw bad(ref, `tag ${JSON.stringify(tag)} is not [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`);
  }
  const parts = rest.split('/');
  let registry = DOCKER_HUB;
  const first = parts[0] ?? '';
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    registry = first;
    parts.shift();
    if (
      !/^[A-Za-z0-9.-]+(:[0-9]{1,5})?$/.test(registry) &&
      !/^\[[0-9a-fA-F:]+\](:[0-9]{1,5})?$/.test(registry)
    ) {
      throw bad(ref, `registry ${JSON.stringify(registry)} is not host[:port]`);
    }
  }
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = DOCKER_HUB;
  if (parts.length === 0 || parts.some((p) => !COMPONENT.test(p))) {
    throw bad(
      ref,
      `repository ${JSON.stringify(parts.join('/'))} must be lowercase path components of [a-z0-9] separated by . _ __ or -`,
    );
  }
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift('library');
  const out: ImageReference = { registry, repository: parts.join('/') };
  if (tag !== undefined) out.tag = tag;
  if (digest !== undefined) out.digest = digest;
  if (tag === undefined && digest === undefined) out.tag = 'latest';
  return out;
}

/**
 * Formats a reference back to its canonical string (`registry/repository[:tag][@digest]`).
 *
 * @param ref - the parts
 * @returns e.g. `docker.io/library/node:20-slim`
 * @throws never
 * @example
 * ```ts
 * formatReference(parseReference('node')); // 'docker.io/library/node:latest'
 * ```
 */
export function formatReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag === undefined ? '' : `:${ref.tag}`}${ref.digest === undefined ? '' : `@${ref.digest}`}`;
}
