import { CloudRunV2Service } from "@cdktf/provider-google/lib/cloud-run-v2-service";
import { CloudRunV2ServiceIamMember } from "@cdktf/provider-google/lib/cloud-run-v2-service-iam-member";
import { Construct } from "constructs";
import type { RunSpec } from "../environments";
import { exempt } from "../guardrails/guardrails";

export interface RunServiceProps {
  readonly projectId: string;
  readonly region: string;
  /** @default "switchboard" */
  readonly serviceName?: string;
  /** Image of the first revision; later image changes belong to CI and are ignored here. */
  readonly image: string;
  readonly serviceAccountEmail: string;
  readonly spec: RunSpec;
  readonly deletionProtection: boolean;
  /** Serverless VPC Access connector id; only private ranges go through it. */
  readonly connectorId: string;
  /** Plain env vars (never credentials: guardrail SB_RUN_SECRET_ENV). */
  readonly env: Readonly<Record<string, string>>;
  /** Env var name → Secret Manager secret id, read at version `latest` (or `id@N` pinned to version N). */
  readonly secretEnv: Readonly<Record<string, string>>;
  /** Principal that may call the internal endpoints (Cloud Tasks / Scheduler OIDC identity). */
  readonly invokerMember: string;
  /**
   * Why anyone on the internet may invoke the service; when set, `allUsers` gets `run.invoker` and this
   * sentence becomes the guardrail exemption. Leave unset for a private service.
   * @default undefined (private)
   */
  readonly publicAccessReason?: string;
  /** Startup probe path: must pass before the revision gets traffic. @default "/api/v1/health" */
  readonly startupProbePath?: string;
  /** Liveness probe path: no dependencies, restarts a wedged container. @default "/healthz" */
  readonly livenessProbePath?: string;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * What `gcloud run deploy` (scripts/release-cloud-run.sh) changes and Terraform must leave alone. CI owns
 * the running image. gcloud deploys through the v1 API and stamps the revision template with
 * `client.knative.dev/user-image` and the `run.googleapis.com/client-name|client-version` annotations
 * (older releases also a `client.knative.dev/nonce` label); template annotations and labels are
 * authoritative in the v2 resource, so the next apply would remove them, which creates a new revision,
 * and with no traffic block that revision takes 100 % of traffic without the tagged smoke test. On the
 * service itself the same stamps land in `client`/`client_version`; its `annotations` are
 * non-authoritative (provider ≥ 5: only configured keys are managed), so they need no entry here.
 */
export const IGNORED_CHANGES = [
  "template[0].containers[0].image",
  'template[0].annotations["client.knative.dev/user-image"]',
  'template[0].annotations["run.googleapis.com/client-name"]',
  'template[0].annotations["run.googleapis.com/client-version"]',
  'template[0].labels["client.knative.dev/nonce"]',
  "client",
  "client_version",
] as const;

/**
 * The Cloud Run v2 service: runtime identity, scaling and size from the environment data, startup CPU
 * boost, probes on the health paths, plain and Secret Manager env vars, egress to private ranges through
 * the VPC connector, explicit ingress. The image is an input for the first revision only: CI deploys new
 * images (`gcloud run deploy --image`), and `ignore_changes` keeps Terraform from rolling them back.
 */
export class RunService extends Construct {
  readonly service: CloudRunV2Service;
  readonly serviceName: string;
  /** The service's URL as Cloud Run reports it. */
  readonly uri: string;

  constructor(scope: Construct, id: string, props: RunServiceProps) {
    super(scope, id);
    const { spec } = props;
    this.serviceName = props.serviceName ?? "switchboard";

    const env = [
      ...Object.entries(props.env).map(([name, value]) => ({ name, value })),
      ...Object.entries(props.secretEnv).map(([name, ref]) => {
        const [secret = ref, version = "latest"] = ref.split("@");
        return { name, valueSource: { secretKeyRef: { secret, version } } };
      }),
    ].sort((a, b) => a.name.localeCompare(b.name));

    this.service = new CloudRunV2Service(this, "service", {
      project: props.projectId,
      location: props.region,
      name: this.serviceName,
      description: "Switchboard: chat endpoint and Intercom bridge",
      // Public: browsers call the chat API and Intercom delivers webhooks from the internet. A load
      // balancer with Cloud Armor in front (INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER) is the next step up.
      ingress: "INGRESS_TRAFFIC_ALL",
      deletionProtection: props.deletionProtection,
      labels: { ...props.labels },
      template: {
        serviceAccount: props.serviceAccountEmail,
        executionEnvironment: "EXECUTION_ENVIRONMENT_GEN2",
        maxInstanceRequestConcurrency: spec.concurrency,
        timeout: `${spec.timeoutSeconds}s`,
        scaling: { minInstanceCount: spec.minInstances, maxInstanceCount: spec.maxInstances },
        vpcAccess: { connector: props.connectorId, egress: "PRIVATE_RANGES_ONLY" },
        labels: { ...props.labels },
        containers: [
          {
            name: "service",
            image: props.image,
            ports: { containerPort: 8080, name: "http1" },
            resources: {
              limits: { cpu: spec.cpu, memory: spec.memory },
              cpuIdle: spec.cpuIdle,
              startupCpuBoost: true,
            },
            env,
            startupProbe: {
              httpGet: { path: props.startupProbePath ?? "/api/v1/health", port: 8080 },
              initialDelaySeconds: 0,
              periodSeconds: 3,
              timeoutSeconds: 2,
              failureThreshold: 20,
            },
            livenessProbe: {
              httpGet: { path: props.livenessProbePath ?? "/healthz", port: 8080 },
              periodSeconds: 30,
              timeoutSeconds: 5,
              failureThreshold: 3,
            },
          },
        ],
      },
      lifecycle: { ignoreChanges: [...IGNORED_CHANGES] },
    });
    this.uri = this.service.uri;

    new CloudRunV2ServiceIamMember(this, "invoker", {
      project: props.projectId,
      location: props.region,
      name: this.service.name,
      role: "roles/run.invoker",
      member: props.invokerMember,
    });

    if (props.publicAccessReason) {
      const publicInvoker = new CloudRunV2ServiceIamMember(this, "public-invoker", {
        project: props.projectId,
        location: props.region,
        name: this.service.name,
        role: "roles/run.invoker",
        member: "allUsers",
      });
      exempt(publicInvoker, "SB_RUN_PUBLIC_INVOKER", props.publicAccessReason);
    }
  }
}
