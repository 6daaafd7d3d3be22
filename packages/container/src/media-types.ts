/**
 * The media types this package reads and writes (OCI image-spec 1.1 and the Docker v2 schema 2
 * equivalents registries still serve for older images).
 *
 * @example
 * ```ts
 * import { MEDIA_TYPES } from '@mlship/container';
 * console.log(MEDIA_TYPES.ociManifest); // application/vnd.oci.image.manifest.v1+json
 * ```
 */
export const MEDIA_TYPES = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  spdxJson: 'application/spdx+json',
} as const;

/** Manifest media types of a single image. */
export const IMAGE_MANIFEST_TYPES: readonly string[] = [
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.dockerManifest,
];

/** Media types of a multi-platform index. */
export const INDEX_TYPES: readonly string[] = [
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.dockerManifestList,
];

/** The `Accept` header of a manifest GET/HEAD: every manifest and index type, OCI first. */
export const MANIFEST_ACCEPT = [
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.dockerManifest,
  MEDIA_TYPES.dockerManifestList,
].join(', ');
