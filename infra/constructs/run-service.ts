import {
  CloudRunV2Service,
  type CloudRunV2ServiceTemplateContainers,
} from "@cdktf/provider-google/lib/cloud-run-v2-service";
import { CloudRunV2ServiceIamMember } from "@cdktf/provider-google/lib/cloud-run-v2-service-iam-member";
import type { ComputeNetwork } from "@cdktf/provider-google/lib/compute-network";
import type { ComputeSubnetwork } from "@cdktf/provider-google/lib/compute-subnetwork";
import type { ServiceAccount } from "@cdktf/provider-google/lib/service-account";
import type { VpcAccessConnector } from "@cdktf/provider-google/lib/vpc-access-connector";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import type { RunSpec } from "../environments";
import { exempt } from "../guardrails/guardrails";
import { serviceAccountMember } from "./naming";

/** Where requests may come from (https://cloud.google.com/run/docs/securing/ingress). */
export type RunIngress =
  | "INGRESS_TRAFFIC_ALL"
  | "INGRESS_TRAFFIC_INTERNAL_ONLY"
  | "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER";

/**
 * The network a service sends private-range traffic into (a Network): through its Serverless VPC Access
 * connector when it has one, else by Direct VPC egress, instances taking their IPs from its subnet.
 */
export interface VpcEgress {
  readonly vpc: Pick<ComputeNetwork, "id">;
  readonly subnet: Pick<ComputeSubnetwork, "id">;
  readonly connector?: Pick<VpcAccessConnector, "id">;
}

/** What the container reads when it starts (a ServiceEnvironment). */
export interface RunEnvironment {
  /** Plain env vars (never credentials: guardrail SB_RUN_SECRET_ENV). */
  readonly env: Readonly<Record<string, string>>;
  /** Env var name → Secret Manager secret id, read at version `latest` (or `id@N` pinned to version N). */
  readonly secretEnv: Readonly<Record<string, string>>;
  /**
   * Resources the first revision needs that its configuration does not reference (a user it logs in as,
   * grants): the service is created after them. @default []
   */
  readonly dependsOn?: readonly ITerraformDependable[];
}

export interface RunServiceProps {
  readonly projectId: string;
  readonly region: string;
  /** @default "switchboard" */
  readonly serviceName?: string;
  /** @default "Switchboard: chat endpoint and Intercom bridge" */
  readonly description?: string;
  /** Image of the first revision; later image changes belong to CI and are ignored here. */
  readonly image: string;
  /** The identity the service runs as. */
  readonly serviceAccount: Pick<ServiceAccount, "email">;
  readonly spec: RunSpec;
  readonly deletionProtection: boolean;
  /** Where private-range traffic goes (only private ranges take that path). @default undefined (no VPC access) */
  readonly network?: VpcEgress;
  readonly environment: RunEnvironment;
  /**
   * Identity granted `run.invoker` on this service (the one Cloud Tasks and Cloud Scheduler sign their OIDC
   * tokens as).
   * @default undefined (nobody but project owners and Cloud Run admins may invoke it)
   */
  readonly invoker?: Pick<ServiceAccount, "email">;
  /**
   * Why anyone on the internet may invoke the service; when set, the Cloud Run invoker IAM check is
   * turned off (`invoker_iam_disabled`) and this sentence becomes the guardrail exemption. Leave unset for
   * a private service.
   * @default undefined (private)
   */
  readonly publicAccessReason?: string;
  /**
   * Network ingress.
   * @default "INGRESS_TRAFFIC_ALL" with a publicAccessReason, else "INGRESS_TRAFFIC_INTERNAL_ONLY"
   */
  readonly ingress?: RunIngress;
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
 * A Cloud Run v2 service: runtime identity, scaling and size from the environment data, startup CPU
 * boost, probes on the health paths, plain and Secret Manager env vars, egress to private ranges through
 * the VPC connector or Direct VPC egress, explicit ingress. The image is an input for the first revision
 * only: CI deploys new images (`gcloud run deploy --image`), and `ignore_changes` keeps Terraform from
 * rolling them back.
 *
 * A public service has the invoker IAM check turned off rather than `run.invoker` for `allUsers`: an
 * organisation policy with Domain Restricted Sharing (iam.allowedPolicyMemberDomains) refuses any
 * `allUsers` binding, and Google recommends turning the check off for public services
 * (https://cloud.google.com/run/docs/authenticating/public#invoker_check).
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
    const isPublic = props.publicAccessReason !== undefined;

    this.service = new CloudRunV2Service(this, "service", {
      project: props.projectId,
      location: props.region,
      name: this.serviceName,
      description: props.description ?? "Switchboard: chat endpoint and Intercom bridge",
      ingress: props.ingress ?? (isPublic ? "INGRESS_TRAFFIC_ALL" : "INGRESS_TRAFFIC_INTERNAL_ONLY"),
      ...(isPublic ? { invokerIamDisabled: true } : {}),
      deletionProtection: props.deletionProtection,
      labels: { ...props.labels },
      template: {
        serviceAccount: props.serviceAccount.email,
        executionEnvironment: "EXECUTION_ENVIRONMENT_GEN2",
        maxInstanceRequestConcurrency: spec.concurrency,
        timeout: `${spec.timeoutSeconds}s`,
        scaling: { minInstanceCount: spec.minInstances, maxInstanceCount: spec.maxInstances },
        ...vpcAccess(props.network),
        labels: { ...props.labels },
        containers: [serviceContainer(props)],
      },
      lifecycle: { ignoreChanges: [...IGNORED_CHANGES] },
      ...(props.environment.dependsOn?.length ? { dependsOn: [...props.environment.dependsOn] } : {}),
    });
    this.uri = this.service.uri;

    if (props.invoker) {
      new CloudRunV2ServiceIamMember(this, "invoker", {
        project: props.projectId,
        location: props.region,
        name: this.service.name,
        role: "roles/run.invoker",
        member: serviceAccountMember(props.invoker),
      });
    }
    if (props.publicAccessReason) exempt(this.service, "SB_RUN_PUBLIC_INVOKER", props.publicAccessReason);
  }
}

/** The one container: the image, its size, its environment, and probes on the health paths. */
function serviceContainer(props: RunServiceProps): CloudRunV2ServiceTemplateContainers {
  const { spec } = props;
  const direct = props.network !== undefined && props.network.connector === undefined;
  return {
    name: "service",
    image: props.image,
    ports: { containerPort: 8080, name: "http1" },
    resources: {
      limits: { cpu: spec.cpu, memory: spec.memory },
      cpuIdle: spec.cpuIdle,
      startupCpuBoost: true,
    },
    env: containerEnv(props.environment),
    startupProbe: {
      httpGet: { path: props.startupProbePath ?? "/api/v1/health", port: 8080 },
      initialDelaySeconds: 0,
      periodSeconds: 3,
      timeoutSeconds: 2,
      // The probe reads the database through the VPC. Direct VPC egress may take "a minute or more"
      // to connect a new instance (https://cloud.google.com/run/docs/configuring/vpc-direct-vpc
      // #limitations), so it gets 120 s instead of 60 s before the revision is failed.
      failureThreshold: direct ? 40 : 20,
    },
    livenessProbe: {
      httpGet: { path: props.livenessProbePath ?? "/healthz", port: 8080 },
      periodSeconds: 30,
      timeoutSeconds: 5,
      failureThreshold: 3,
    },
  };
}

function containerEnv(environment: RunEnvironment) {
  return [
    ...Object.entries(environment.env).map(([name, value]) => ({ name, value })),
    ...Object.entries(environment.secretEnv).map(([name, ref]) => {
      const [secret = ref, version = "latest"] = ref.split("@");
      return { name, valueSource: { secretKeyRef: { secret, version } } };
    }),
  ].sort((a, b) => a.name.localeCompare(b.name));
}

function vpcAccess(network: VpcEgress | undefined) {
  if (!network) return {};
  if (network.connector) {
    return { vpcAccess: { connector: network.connector.id, egress: "PRIVATE_RANGES_ONLY" } };
  }
  return {
    vpcAccess: {
      networkInterfaces: [{ network: network.vpc.id, subnetwork: network.subnet.id }],
      egress: "PRIVATE_RANGES_ONLY",
    },
  };
}
