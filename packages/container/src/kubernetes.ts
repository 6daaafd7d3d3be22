import type { Deployment } from 'kubernetes-types/apps/v1';
import type { HorizontalPodAutoscaler } from 'kubernetes-types/autoscaling/v2';
import type { Container, Probe, ResourceRequirements, Service } from 'kubernetes-types/core/v1';
import type { ObjectMeta } from 'kubernetes-types/meta/v1';
import { stringify } from 'yaml';
import { ContainerError, checkOptionKeys } from './errors';
import { parseReference } from './reference';

/** A KServe `InferenceService` (serving.kserve.io/v1beta1) with a custom predictor container. */
export interface InferenceService {
  apiVersion: 'serving.kserve.io/v1beta1';
  kind: 'InferenceService';
  metadata: ObjectMeta;
  spec: {
    predictor: {
      minReplicas?: number;
      maxReplicas?: number;
      scaleMetric?: 'cpu' | 'memory' | 'concurrency' | 'rps';
      scaleTarget?: number;
      containers: Container[];
    };
  };
}

/** Options of {@link kubernetesManifests}. */
export interface KubernetesOptions {
  /** The app name: Deployment, Service, HPA and InferenceService name (DNS-1123 label), e.g. `cnn-server`. */
  name: string;
  /** The image, best by digest (`registry/repo@sha256:...`) so every replica runs the same bytes. */
  image: string;
  /** Namespace (default: none, the current one). */
  namespace?: string;
  /** Container port the server listens on (default 8080). */
  port?: number;
  /** Service port (default 80). */
  servicePort?: number;
  /** Replicas when no HPA acts (default 2). */
  replicas?: number;
  /** Resource requests and limits (default requests cpu 500m / memory 512Mi, limits memory 1Gi). */
  resources?: ResourceRequirements;
  /** Autoscaling (default 2..10 replicas at 70 % CPU). */
  autoscaling?: { minReplicas?: number; maxReplicas?: number; targetCpuUtilization?: number };
  /** Labels added to every object (`app.kubernetes.io/name` is set to `name`). */
  labels?: Record<string, string>;
  /** Annotations of the pods (e.g. the image's `dev.mlship.*` annotations). */
  podAnnotations?: Record<string, string>;
  /** The user the container runs as (default 1000). */
  runAsUser?: number;
}

/** What {@link kubernetesManifests} returns. */
export interface KubernetesManifests {
  /** Deployment with readiness and liveness probes on the v2 health routes and resource requests. */
  deployment: Deployment;
  /** ClusterIP Service in front of it. */
  service: Service;
  /** HorizontalPodAutoscaler (autoscaling/v2) on CPU. */
  hpa: HorizontalPodAutoscaler;
  /** KServe InferenceService running the same image as a custom predictor (v2 protocol). */
  inferenceService: InferenceService;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function positiveInt(value: unknown, fallback: number, where: string, max = 1_000_000): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
    throw new ContainerError(
      'INVALID_OPTION',
      `${where}: expected an integer 1..${max}, got ${JSON.stringify(v)}`,
      { data: { path: where, actual: v } },
    );
  }
  return v;
}

/**
 * Kubernetes manifests for a model-server image, typed with `kubernetes-types`: a Deployment
 * (non-root, read-only root file system with a writable `/tmp`, no privilege escalation, all
 * capabilities dropped; readiness probe on `GET /v2/health/ready`, liveness on `GET /v2/health/live`;
 * resource requests), a Service, a HorizontalPodAutoscaler, and a KServe InferenceService that runs
 * the same image as a custom predictor. Write them with {@link kubernetesYaml}.
 *
 * @param options - name, image, port, replicas, resources, autoscaling, labels
 * @returns the four objects
 * @throws ContainerError `INVALID_OPTION` for a name that is not a DNS-1123 label, a bad number,
 *   an unknown option; `INVALID_REFERENCE` for a bad image reference
 * @example
 * ```ts
 * const m = kubernetesManifests({ name: 'cnn-server', image: 'ghcr.io/acme/cnn-server@sha256:...' });
 * console.log(kubernetesYaml([m.deployment, m.service, m.hpa]));
 * ```
 */
export function kubernetesManifests(options: KubernetesOptions): KubernetesManifests {
  checkOptionKeys(
    options,
    [
      'name',
      'image',
      'namespace',
      'port',
      'servicePort',
      'replicas',
      'resources',
      'autoscaling',
      'labels',
      'podAnnotations',
      'runAsUser',
    ],
    'kubernetesManifests options',
  );
  if (typeof options?.name !== 'string' || !DNS_LABEL.test(options.name)) {
    throw new ContainerError(
      'INVALID_OPTION',
      `name: expected a DNS-1123 label (lowercase [a-z0-9-], at most 63, e.g. "cnn-server"), got ${JSON.stringify(options?.name)}`,
      {
        data: { path: 'name', actual: options?.name },
      },
    );
  }
  if (options.namespace !== undefined && !DNS_LABEL.test(options.namespace)) {
    throw new ContainerError(
      'INVALID_OPTION',
      `namespace: expected a DNS-1123 label, got ${JSON.stringify(options.namespace)}`,
      { data: { path: 'namespace' } },
    );
  }
  parseReference(options.image);
  const { name } = options;
  const port = positiveInt(options.port, 8080, 'port', 65535);
  const servicePort = positiveInt(options.servicePort, 80, 'servicePort', 65535);
  const replicas = positiveInt(options.replicas, 2, 'replicas');
  const minReplicas = positiveInt(options.autoscaling?.minReplicas, 2, 'autoscaling.minReplicas');
  const maxReplicas = positiveInt(options.autoscaling?.maxReplicas, 10, 'autoscaling.maxReplicas');
  if (maxReplicas < minReplicas) {
    throw new ContainerError(
      'INVALID_OPTION',
      `autoscaling.maxReplicas (${maxReplicas}) is below minReplicas (${minReplicas})`,
      { data: { path: 'autoscaling.maxReplicas' } },
    );
  }
  const cpuTarget = positiveInt(
    options.autoscaling?.targetCpuUtilization,
    70,
    'autoscaling.targetCpuUtilization',
    100,
  );
  const runAsUser = positiveInt(options.runAsUser, 1000, 'runAsUser', 2 ** 31 - 1);
  const labels = {
    'app.kubernetes.io/name': name,
    'app.kubernetes.io/component': 'model-server',
    'app.kubernetes.io/managed-by': 'mlship',
    ...(options.labels ?? {}),
  };
  const selector = { 'app.kubernetes.io/name': name };
  const meta = (extra: ObjectMeta = {}): ObjectMeta => ({
    name,
    ...(options.namespace ? { namespace: options.namespace } : {}),
    labels,
    ...extra,
  });
  const resources: ResourceRequirements = options.resources ?? {
    requests: { cpu: '500m', memory: '512Mi' },
    limits: { memory: '1Gi' },
  };
  const probe = (path: string, extra: Partial<Probe>): Probe => ({
    httpGet: { path, port: 'http' },
    ...extra,
  });
  const container: Container = {
    name: 'server',
    image: options.image,
    ports: [{ name: 'http', containerPort: port, protocol: 'TCP' }],
    readinessProbe: probe('/v2/health/ready', {
      periodSeconds: 5,
      timeoutSeconds: 2,
      failureThreshold: 3,
    }),
    livenessProbe: probe('/v2/health/live', {
      periodSeconds: 10,
      timeoutSeconds: 2,
      failureThreshold: 3,
    }),
    startupProbe: probe('/v2/health/live', { periodSeconds: 2, failureThreshold: 30 }),
    resources,
    securityContext: {
      runAsNonRoot: true,
      runAsUser,
      runAsGroup: runAsUser,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    },
    volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
  };
  const deployment: Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(),
    spec: {
      replicas,
      selector: { matchLabels: selector },
      template: {
        metadata: {
          labels,
          ...(options.podAnnotations ? { annotations: { ...options.podAnnotations } } : {}),
        },
        spec: {
          containers: [container],
          volumes: [{ name: 'tmp', emptyDir: {} }],
          terminationGracePeriodSeconds: 30,
          securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
        },
      },
    },
  };
  const service: Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(),
    spec: {
      type: 'ClusterIP',
      selector,
      ports: [{ name: 'http', port: servicePort, targetPort: 'http', protocol: 'TCP' }],
    },
  };
  const hpa: HorizontalPodAutoscaler = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: meta(),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      minReplicas,
      maxReplicas,
      metrics: [
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: cpuTarget } },
        },
      ],
    },
  };
  const inferenceService: InferenceService = {
    apiVersion: 'serving.kserve.io/v1beta1',
    kind: 'InferenceService',
    metadata: meta({
      ...(options.podAnnotations ? { annotations: { ...options.podAnnotations } } : {}),
    }),
    spec: {
      predictor: {
        minReplicas,
        maxReplicas,
        scaleMetric: 'cpu',
        scaleTarget: cpuTarget,
        containers: [
          {
            // KServe routes to the container named kserve-container; the server speaks the v2 protocol KServe expects.
            ...container,
            name: 'kserve-container',
            ports: [{ containerPort: port, protocol: 'TCP' }],
            readinessProbe: { httpGet: { path: '/v2/health/ready', port } },
            livenessProbe: { httpGet: { path: '/v2/health/live', port } },
            startupProbe: {
              httpGet: { path: '/v2/health/live', port },
              periodSeconds: 2,
              failureThreshold: 30,
            },
            volumeMounts: [],
            securityContext: { ...container.securityContext, readOnlyRootFilesystem: false },
          },
        ],
      },
    },
  };
  return { deployment, service, hpa, inferenceService };
}

/**
 * Writes Kubernetes objects as one multi-document YAML string (`---` between documents), ready for
 * `kubectl apply -f`.
 *
 * @param objects - the objects (e.g. from {@link kubernetesManifests})
 * @returns the YAML
 * @throws never
 * @example
 * ```ts
 * await writeFile('k8s.yaml', kubernetesYaml(Object.values(kubernetesManifests({ name: 'cnn', image }))));
 * ```
 */
export function kubernetesYaml(objects: readonly object[]): string {
  return objects.map((o) => stringify(o, { lineWidth: 0 })).join('---\n');
}
