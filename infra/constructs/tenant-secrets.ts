import { ProjectIamMember } from "@cdktf/provider-google/lib/project-iam-member";
import { Construct } from "constructs";
import { exempt } from "../guardrails/guardrails";
import type { ServiceEnvironment, ServiceEnvironmentSource } from "./service-environment";

export interface TenantSecretsProps {
  readonly projectId: string;
  /**
   * The project's number: Secret Manager resource names in IAM conditions carry the number, never the id
   * (https://cloud.google.com/iam/docs/conditions-resource-attributes#resource-name). It comes from the
   * site, like the run.app hosts: a data source would fail the first plan of a new project.
   */
  readonly projectNumber: string;
  /** Every tenant secret's id starts with it (the service's SECRET_STORE_PREFIX). */
  readonly prefix: string;
  /** The runtime identity, `serviceAccount:<e-mail>`. */
  readonly member: string;
}

/** The predefined roles the runtime holds for tenant secrets, each behind an IAM condition. */
export const TENANT_SECRET_ROLES = {
  /** Only for what is checked on the project itself: creating a secret (and listing names). */
  create: "roles/secretmanager.admin",
  /** Add, destroy and list versions of the secrets under the prefix. */
  versions: "roles/secretmanager.secretVersionManager",
  /** Read the values of the secrets under the prefix. */
  access: "roles/secretmanager.secretAccessor",
} as const;

const CREATE_EXEMPTION =
  "Creating a secret is checked on the project (secretmanager.secrets.create on the parent), and only " +
  "roles/secretmanager.admin carries it among predefined roles. The grant's condition limits it to the " +
  "project resource itself: no permission on any secret (values, versions, IAM policy) comes with it.";

/**
 * What the runtime needs to keep tenants' credentials in Secret Manager (service/src/adapters/
 * secret-manager-store.ts): create a secret per credential, add and destroy its versions, read it; only
 * under the prefix, through conditioned project grants (a tenant's secret does not exist yet when the
 * stack is applied, so it cannot be granted on the secret).
 *
 * Why three predefined roles and not one custom role: `secretmanager.secrets.create` is checked on the
 * project, where `resource.name` is the project, never the new secret's name, so no prefix condition can
 * scope it; the version permissions are checked on the secret, where the prefix condition holds. And the
 * deploy identity may grant only a fixed list of roles (CiIdentities): a custom role it could also edit
 * would be a way round that list. So: admin only on the project resource (create, list names), version
 * manager and accessor only on `projects/<number>/secrets/<prefix>*`. Not granted: deleting secrets, or
 * changing their IAM policy; the service destroys a deleted credential's versions instead.
 */
export class TenantSecrets extends Construct implements ServiceEnvironmentSource {
  readonly grants: readonly ProjectIamMember[];
  /** The condition on the version grants. */
  readonly prefixCondition: string;
  private readonly prefix: string;

  constructor(scope: Construct, id: string, props: TenantSecretsProps) {
    super(scope, id);
    if (!/^[A-Za-z][A-Za-z0-9_-]{0,98}[-_]$/.test(props.prefix)) {
      throw new Error(
        `TenantSecrets: prefix "${props.prefix}" must end with "-" or "_" (SECRET_STORE_PREFIX)`,
      );
    }
    if (!/^\d+$/.test(props.projectNumber)) {
      throw new Error(`TenantSecrets: "${props.projectNumber}" is not a project number`);
    }
    this.prefixCondition = `resource.name.startsWith("projects/${props.projectNumber}/secrets/${props.prefix}")`;
    const underPrefix = {
      title: "switchboard-tenant-secrets",
      description: `Only the tenant credentials: secrets whose id starts with ${props.prefix}`,
      expression: this.prefixCondition,
    };
    const onProject = {
      title: "switchboard-create-secrets",
      description: "Only what is checked on the project itself (creating secrets), nothing on any secret",
      expression: `resource.type == "cloudresourcemanager.googleapis.com/Project"`,
    };
    const grant = (name: string, role: string, condition: typeof underPrefix) =>
      new ProjectIamMember(this, name, { project: props.projectId, role, member: props.member, condition });
    const create = grant("create", TENANT_SECRET_ROLES.create, onProject);
    exempt(create, "CKV_GCP_42", CREATE_EXEMPTION);
    this.grants = [
      create,
      grant("versions", TENANT_SECRET_ROLES.versions, underPrefix),
      grant("access", TENANT_SECRET_ROLES.access, underPrefix),
    ];
    this.prefix = props.prefix;
  }

  /** The services keep tenant credentials here, once the runtime may. */
  addToEnvironment(environment: ServiceEnvironment): void {
    environment.set("SECRET_STORE", "secret-manager").set("SECRET_STORE_PREFIX", this.prefix);
    environment.waitFor(...this.grants);
  }
}
