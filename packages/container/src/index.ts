export { ContainerError, isContainerError, CONTAINER_ERROR_CODES } from './errors';
export type { ContainerErrorCode } from './errors';
export { MEDIA_TYPES } from './media-types';
export type {
  Platform,
  Descriptor,
  ImageManifest,
  ImageIndex,
  ImageConfig,
  ContainerConfig,
  HealthcheckConfig,
  HistoryEntry,
} from './types';
export { sha256Digest, isDigest } from './digest';
export { parseReference, formatReference, DOCKER_HUB } from './reference';
export type { ImageReference } from './reference';
export type { EpochOptions } from './epoch';
export { createLayer, layerFromFiles, layerFromDirectory, createLayerCache } from './layer';
export type {
  Blob,
  Layer,
  LayerCache,
  LayerEntry,
  LayerOptions,
  DirectoryLayerOptions,
} from './layer';
export { buildImage, parsePlatform } from './image';
export type {
  Image,
  Artifact,
  BuildImageOptions,
  ImageConfigOptions,
  HealthcheckOptions,
} from './image';
export type { BaseImage } from './base';
export { writeOciLayout } from './oci-layout';
export type { WriteOciLayoutOptions, OciLayoutResult } from './oci-layout';
export { writeDockerArchive } from './docker-archive';
export type { WriteDockerArchiveOptions } from './docker-archive';
export { pushImage, createReferrer } from './push';
export type { PushImageOptions, PushResult, PushedBlob } from './push';
export { RegistryClient, createRegistryClient } from './registry/client';
export type {
  RegistryClientOptions,
  TransferEvent,
  FetchedManifest,
  UploadResult,
} from './registry/types';
export type { RegistryCredentials } from './registry/auth';
export { readDockerConfigCredentials } from './registry/docker-config';
export { buildHostNodeBase } from './host-node-base';
export type { HostNodeBaseOptions } from './host-node-base';
export {
  containerize,
  DEFAULT_NODE_BASE,
  DEFAULT_SERVER_PACKAGE,
  IMAGE_PATHS,
} from './containerize';
export type {
  ContainerizeOptions,
  ContainerizeResult,
  ContainerizeProgress,
  ContainerizedLayer,
  LayerRole,
} from './containerize';
export { spdxSbom } from './sbom';
export type { SbomPackage, SpdxDocument, SpdxPackage } from './sbom';
export { generateDockerfile, writeDockerContext } from './dockerfile';
export type { DockerfileOptions } from './dockerfile';
export { kubernetesManifests, kubernetesYaml } from './kubernetes';
export type { KubernetesOptions, KubernetesManifests, InferenceService } from './kubernetes';
