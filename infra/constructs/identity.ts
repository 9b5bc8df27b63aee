import { ProjectIamMember } from "@cdktf/provider-google/lib/project-iam-member";
import { ServiceAccount } from "@cdktf/provider-google/lib/service-account";
import { ServiceAccountIamMember } from "@cdktf/provider-google/lib/service-account-iam-member";
import { Construct } from "constructs";
import { roleId, serviceAccountMember } from "./naming";
import type { ServiceEnvironment, ServiceEnvironmentSource } from "./service-environment";
import { TENANT_SECRET_ROLES } from "./tenant-secrets";

export interface IdentityProps {
  readonly projectId: string;
  /** @default "switchboard" */
  readonly namePrefix?: string;
  /**
   * Extra project-level roles for the runtime identity, e.g. `roles/aiplatform.user` when Gemini is
   * reached through Vertex AI.
   * @default []
   */
  readonly extraRuntimeRoles?: readonly string[];
  /**
   * The principal that deploys the service (`serviceAccount:<deploy identity>`): it may act as the runtime
   * (Cloud Run runs as it) and the invoker (scheduler jobs mint its tokens), and as no other account.
   * @default undefined (no grant; whoever deploys holds actAs some other way)
   */
  readonly deployerMember?: string;
}

/** The runtime role when Gemini is reached through Vertex AI. */
export const VERTEX_RUNTIME_ROLE = "roles/aiplatform.user";

/**
 * The two identities of a deployment, with no keys:
 * - runtime: what the Cloud Run service runs as. It gets only what the service uses at project level
 *   (Cloud SQL client and IAM login, logs, metrics, traces); per-secret accessor and the enqueuer role are
 *   granted on the secret and the queue themselves by the constructs that own them.
 * - invoker: the identity Cloud Tasks and Cloud Scheduler sign their OIDC tokens as. It holds
 *   `run.invoker` on this one service (granted by RunService) and nothing else.
 * The runtime may act as the invoker, because creating a task that carries an OIDC token for an account
 * requires iam.serviceAccounts.actAs on it (https://cloud.google.com/tasks/docs/creating-http-target-tasks).
 * Services running as the runtime wait for its grants (addToEnvironment).
 */
export class Identity extends Construct implements ServiceEnvironmentSource {
  readonly runtime: ServiceAccount;
  readonly invoker: ServiceAccount;
  /** The runtime's Cloud SQL IAM user name: its e-mail without `.gserviceaccount.com`. */
  readonly runtimeDatabaseUser: string;
  /** `serviceAccount:<runtime e-mail>`. */
  readonly runtimeMember: string;
  /** The runtime's project-level grants (Cloud SQL login, logs, ...): the service must start after them. */
  readonly runtimeGrants: readonly ProjectIamMember[];
  /** The deployer's actAs on the runtime and the invoker: the service and the jobs are created after them. */
  readonly deployerGrants: readonly ServiceAccountIamMember[];

  static readonly RUNTIME_ROLES = [
    "roles/cloudsql.client",
    "roles/cloudsql.instanceUser",
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
    "roles/cloudtrace.agent",
  ] as const;

  /**
   * Every project-level role the platform stack grants: the deploy identity's Project IAM Admin is limited
   * to exactly these (CiIdentities). A project grant added here without this list would be refused.
   */
  static readonly GRANTABLE_PROJECT_ROLES: readonly string[] = [
    ...Identity.RUNTIME_ROLES,
    VERTEX_RUNTIME_ROLE,
    // Granted to the runtime behind IAM conditions by TenantSecrets.
    ...Object.values(TENANT_SECRET_ROLES),
  ];

  constructor(scope: Construct, id: string, props: IdentityProps) {
    super(scope, id);
    const prefix = props.namePrefix ?? "switchboard";

    this.runtime = new ServiceAccount(this, "runtime", {
      project: props.projectId,
      accountId: `${prefix}-run`,
      displayName: "Switchboard runtime (Cloud Run service identity)",
    });
    this.invoker = new ServiceAccount(this, "invoker", {
      project: props.projectId,
      accountId: `${prefix}-invoker`,
      displayName: "Switchboard invoker (Cloud Tasks and Scheduler OIDC tokens)",
    });
    // Built from the known account id rather than the email attribute so DATABASE_USER is plain text
    // in the plan.
    this.runtimeDatabaseUser = `${prefix}-run@${props.projectId}.iam`;
    this.runtimeMember = serviceAccountMember(this.runtime);

    this.runtimeGrants = [...Identity.RUNTIME_ROLES, ...(props.extraRuntimeRoles ?? [])].map(
      (role) =>
        new ProjectIamMember(this, `runtime-${roleId(role)}`, {
          project: props.projectId,
          role,
          member: this.runtimeMember,
        }),
    );

    new ServiceAccountIamMember(this, "runtime-acts-as-invoker", {
      serviceAccountId: this.invoker.name,
      role: "roles/iam.serviceAccountUser",
      member: this.runtimeMember,
    });

    const deployer = props.deployerMember;
    this.deployerGrants = deployer
      ? [this.actAs("runtime", this.runtime, deployer), this.actAs("invoker", this.invoker, deployer)]
      : [];
  }

  /**
   * Nothing in a service references these grants, yet its first revision logs in to Cloud SQL with the
   * runtime's roles before its startup probe passes, and creating a service that runs as the runtime
   * needs the deployer's actAs on it.
   */
  addToEnvironment(environment: ServiceEnvironment): void {
    environment.waitFor(...this.runtimeGrants, ...this.deployerGrants);
  }

  private actAs(name: string, account: ServiceAccount, member: string): ServiceAccountIamMember {
    return new ServiceAccountIamMember(this, `deployer-acts-as-${name}`, {
      serviceAccountId: account.name,
      role: "roles/iam.serviceAccountUser",
      member,
    });
  }
}
