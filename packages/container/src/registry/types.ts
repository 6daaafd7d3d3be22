import type { RegistryCredentials } from './auth';

/** A transfer event: what {@link RegistryClientOptions.onProgress} receives. */
export interface TransferEvent {
  /** What happened to the blob or manifest. */
  action: 'upload' | 'download' | 'skip' | 'mount' | 'manifest';
  /** Registry host. */
  registry: string;
  /** Repository. */
  repository: string;
  /** The blob's or manifest's digest. */
  digest: string;
  /** Bytes transferred so far (equal to `total` when done; 0 for skip and mount). */
  bytes: number;
  /** The blob's size. */
  total: number;
  /** True on the last event of this blob. */
  done: boolean;
}

/** Options of {@link createRegistryClient}. */
export interface RegistryClientOptions {
  /**
   * Credentials for every registry this client talks to. When not given, the Docker config file is
   * read per registry (see `dockerConfig`); when that has none either, the client is anonymous.
   */
  credentials?: RegistryCredentials | Record<string, RegistryCredentials>;
  /** Docker config file to read credentials from (default `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`); `false` to never read one. */
  dockerConfig?: string | false;
  /**
   * Registries spoken to over plain HTTP: `true` for all, or a list of hosts. Default: only
   * loopback hosts (`localhost`, `127.0.0.1`, `[::1]`, with any port).
   */
  insecure?: boolean | readonly string[];
  /** Upload blobs larger than this in chunks of this many bytes (PATCH with Content-Range); default: one monolithic PUT. */
  chunkSize?: number;
  /** Retries of a request that failed transiently (connection errors, 429, 502, 503, 504). Default 3. */
  retries?: number;
  /** First backoff delay in ms, doubled on each retry (default 250). */
  retryDelayMs?: number;
  /** Progress of blob transfers. */
  onProgress?: (event: TransferEvent) => void;
  /** The HTTP transport (default the global `fetch`). */
  fetch?: typeof fetch;
  /** Abort everything in flight. */
  signal?: AbortSignal;
  /** `User-Agent` header (default `mlship-container`). */
  userAgent?: string;
  /** Environment (`DOCKER_CONFIG`), default `process.env`. */
  env?: Record<string, string | undefined>;
}

/** A manifest as the registry served it. */
export interface FetchedManifest {
  /** Its media type (the response's Content-Type, or the document's `mediaType`). */
  mediaType: string;
  /** The exact bytes (what the digest is computed over). */
  bytes: Uint8Array;
  /** `sha256:` of the bytes, verified against the requested digest when one was asked for. */
  digest: string;
}

/** The outcome of {@link RegistryClient.uploadBlob}. */
export interface UploadResult {
  /** `exists`: the registry had it (HEAD); `mounted`: mounted from another repository; `uploaded`: bytes sent. */
  status: 'exists' | 'mounted' | 'uploaded';
  /** Bytes sent (0 unless uploaded). */
  bytes: number;
}
