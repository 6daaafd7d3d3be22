/** An OCI platform: what a multi-platform index selects on. */
export interface Platform {
  /** CPU architecture in Go's spelling: `amd64`, `arm64`, `arm`, ... */
  architecture: string;
  /** Operating system: `linux`, `windows`. */
  os: string;
  /** CPU variant, e.g. `v8` for arm64, `v7` for arm. */
  variant?: string;
  /** OS version (Windows images). */
  'os.version'?: string;
}

/** An OCI content descriptor: what a manifest or index says about a blob or manifest. */
export interface Descriptor {
  /** The media type of the referenced content. */
  mediaType: string;
  /** `sha256:<64 hex>` of the content. */
  digest: string;
  /** Its size in bytes. */
  size: number;
  /** OCI annotations. */
  annotations?: Record<string, string>;
  /** In an index: the platform of the referenced image. */
  platform?: Platform;
  /** In an index or `subject`: the artifact type of the referenced manifest. */
  artifactType?: string;
}

/** An OCI image manifest (schemaVersion 2). */
export interface ImageManifest {
  schemaVersion: 2;
  mediaType: string;
  /** For artifacts (an SBOM): what kind of artifact this manifest is. */
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  /** For artifacts: the manifest this one refers to (the referrers API). */
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** An OCI image index (or Docker manifest list). */
export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

/** Docker's healthcheck extension of the image config (read by Docker, podman and buildah). */
export interface HealthcheckConfig {
  /** `["CMD", "node", "-e", "..."]`, `["CMD-SHELL", "..."]` or `["NONE"]`. */
  Test: string[];
  /** Nanoseconds between checks. */
  Interval?: number;
  /** Nanoseconds before a check counts as failed. */
  Timeout?: number;
  /** Nanoseconds of start-up during which failures do not count. */
  StartPeriod?: number;
  /** Consecutive failures before the container is unhealthy. */
  Retries?: number;
}

/** The `config` object of an OCI image config (what a runtime turns into a process). */
export interface ContainerConfig {
  User?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  Volumes?: Record<string, Record<string, never>>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  Healthcheck?: HealthcheckConfig;
}

/** One `history` entry of an image config. */
export interface HistoryEntry {
  created?: string;
  created_by?: string;
  comment?: string;
  empty_layer?: boolean;
  author?: string;
}

/** An OCI image config (`application/vnd.oci.image.config.v1+json`). */
export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
  config?: ContainerConfig;
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: HistoryEntry[];
}
