import { BillingAccountIamMember } from "@cdktf/provider-google/lib/billing-account-iam-member";
import { ProjectIamCustomRole } from "@cdktf/provider-google/lib/project-iam-custom-role";
import { ProjectIamMember } from "@cdktf/provider-google/lib/project-iam-member";
import { ServiceAccount } from "@cdktf/provider-google/lib/service-account";
import { ServiceAccountIamMember } from "@cdktf/provider-google/lib/service-account-iam-member";
import { StorageBucketIamMember } from "@cdktf/provider-google/lib/storage-bucket-iam-member";
import { Construct } from "constructs";
import { exempt } from "../guardrails/guardrails";
import { Identity } from "./identity";
import { roleId } from "./naming";

export interface CiIdentitiesProps {
  /** Project the service accounts live in (the bootstrap project). */
  readonly projectId: string;
  /**
   * Projects the CI identities plan and deploy, keyed by a stable name (the environment): construct ids
   * use the key, so changing a project id replaces grants in place instead of renaming resources.
   */
  readonly targetProjects: Readonly<Record<string, string>>;
  readonly stateBucketName: string;
  /** Who may impersonate the plan identity (every workflow run of the repository). */
  readonly planPrincipalSet: string;
  /** Who may impersonate the deploy identity (main-branch runs only). */
  readonly deployPrincipalSet: string;
  /**
   * The only roles the deploy identity may grant or revoke on a target project: the project-level roles
   * the platform stack grants (Identity.GRANTABLE_PROJECT_ROLES). Its Project IAM Admin role carries this
   * list as an IAM condition.
   * @default Identity.GRANTABLE_PROJECT_ROLES
   */
  readonly deployGrantableRoles?: readonly string[];
  /** Billing account the budgets live on. @default undefined (no billing grants) */
  readonly billingAccount?: string;
}

/** Service account ids of the two CI identities; the platform stack names the deploy identity too. */
export const PLAN_ACCOUNT_ID = "switchboard-ci-plan";
export const DEPLOY_ACCOUNT_ID = "switchboard-ci-deploy";

/** E-mail of a CI identity, from the bootstrap project id (known before the account exists). */
export const ciAccountEmail = (accountId: string, bootstrapProjectId: string): string =>
  `${accountId}@${bootstrapProjectId}.iam.gserviceaccount.com`;

/**
 * Terraform `plan` on pull requests needs read access to everything the stacks manage; predefined viewer
 * roles per service, not roles/viewer (CKV_GCP_117). `roles/serviceusage.serviceUsageConsumer` because the
 * provider bills API quota to the target project (user_project_override).
 */
export const PLAN_ROLES = [
  "roles/browser",
  "roles/iam.securityReviewer",
  "roles/iam.serviceAccountViewer",
  "roles/serviceusage.serviceUsageConsumer",
  "roles/serviceusage.serviceUsageViewer",
  "roles/run.viewer",
  "roles/cloudsql.viewer",
  "roles/compute.networkViewer",
  "roles/vpcaccess.viewer",
  "roles/secretmanager.viewer",
  "roles/cloudtasks.viewer",
  "roles/cloudscheduler.viewer",
  "roles/pubsub.viewer",
  "roles/artifactregistry.reader",
  "roles/monitoring.viewer",
  "roles/logging.viewer",
] as const;

/**
 * What the plan's refresh reads that no predefined viewer role grants, as a custom role on each target
 * project:
 * - `servicenetworking.services.get`: google_service_networking_connection's read lists the connections
 *   (services.connections.list requires it) after `resourcemanager.projects.get` for the project number;
 * - `billing.resourcebudgets.read` (with `resourcemanager.projects.get`): GetBudget of a single-project
 *   budget accepts these on the project instead of billing.budgets.get on the billing account
 *   (https://cloud.google.com/billing/docs/how-to/budget-api-access-control), so the plan identity needs
 *   nothing on the billing account.
 */
export const planReaderPermissions = (withBudget: boolean): string[] => [
  ...(withBudget ? ["billing.resourcebudgets.read"] : []),
  "resourcemanager.projects.get",
  "servicenetworking.services.get",
];

/**
 * Terraform `apply` creates and changes every resource type of the platform stack. Many of these are admin
 * roles, which guardrail CKV_GCP_42 forbids for service accounts: each grant is exempted with
 * DEPLOY_EXEMPTION below. Project IAM Admin is granted with a condition on the roles it may grant; acting
 * as a service account is granted on the runtime and invoker accounts only, by the platform stack
 * (Identity), never project-wide.
 */
export const DEPLOY_ROLES = [
  "roles/serviceusage.serviceUsageAdmin",
  "roles/resourcemanager.projectIamAdmin",
  "roles/iam.serviceAccountAdmin",
  "roles/run.admin",
  "roles/cloudsql.admin",
  "roles/compute.networkAdmin",
  // The edge: Cloud Armor policies and Google-managed certificates, which networkAdmin excludes
  // (https://cloud.google.com/armor/docs/create-security-policies#iam).
  "roles/compute.securityAdmin",
  "roles/servicenetworking.networksAdmin",
  "roles/vpcaccess.admin",
  "roles/secretmanager.admin",
  "roles/cloudtasks.admin",
  "roles/cloudscheduler.admin",
  // The Gmail push topic, its subscriptions and their IAM (GmailPush).
  "roles/pubsub.admin",
  "roles/artifactregistry.admin",
  "roles/monitoring.admin",
  "roles/logging.configWriter",
] as const;

const PROJECT_IAM_ADMIN = "roles/resourcemanager.projectIamAdmin";

const DEPLOY_EXEMPTION =
  "The deploy identity is Terraform apply: it must create and change every resource type of the platform " +
  "stack. It has no key, and only main-branch workflow runs of one repository can impersonate it (WIF).";

/**
 * The IAM condition that lets Project IAM Admin grant and revoke only the listed roles
 * (https://cloud.google.com/iam/docs/setting-limits-on-granting-roles). Reads of the policy carry no
 * modified grants, so refreshes stay allowed.
 */
export function grantLimitCondition(roles: readonly string[]) {
  const list = [...new Set(roles)]
    .sort()
    .map((r) => `'${r}'`)
    .join(", ");
  return {
    title: "switchboard-grantable-roles",
    description: "Only the project roles the Switchboard platform stack grants to its own identities",
    expression: `api.getAttribute('iam.googleapis.com/modifiedGrantsByRole', []).hasOnly([${list}])`,
  };
}

/** The read-only plan identity (pull requests) and the deploy identity (merges to main), keyless. */
export class CiIdentities extends Construct {
  readonly plan: ServiceAccount;
  readonly deploy: ServiceAccount;

  constructor(scope: Construct, id: string, props: CiIdentitiesProps) {
    super(scope, id);
    this.plan = new ServiceAccount(this, "plan", {
      project: props.projectId,
      accountId: PLAN_ACCOUNT_ID,
      displayName: "Switchboard CI: terraform plan (read-only, pull requests)",
    });
    this.deploy = new ServiceAccount(this, "deploy", {
      project: props.projectId,
      accountId: DEPLOY_ACCOUNT_ID,
      displayName: "Switchboard CI: terraform apply and image deploys (main branch)",
    });
    // Plan reads state (and runs with -lock=false); deploy reads, writes and locks it.
    this.federate("plan", this.plan, props.planPrincipalSet, "roles/storage.objectViewer", props);
    this.federate("deploy", this.deploy, props.deployPrincipalSet, "roles/storage.objectUser", props);
    this.grantPlan(props);
    this.grantDeploy(props);
  }

  /** Who may impersonate the account (WIF), and its access to the state bucket. */
  private federate(
    id: string,
    account: ServiceAccount,
    principalSet: string,
    stateRole: string,
    props: CiIdentitiesProps,
  ): void {
    new ServiceAccountIamMember(this, `${id}-federation`, {
      serviceAccountId: account.name,
      role: "roles/iam.workloadIdentityUser",
      member: principalSet,
    });
    new StorageBucketIamMember(this, `${id}-state`, {
      bucket: props.stateBucketName,
      role: stateRole,
      member: `serviceAccount:${account.email}`,
    });
  }

  private grantPlan(props: CiIdentitiesProps): void {
    const member = `serviceAccount:${this.plan.email}`;
    for (const [target, project] of Object.entries(props.targetProjects)) {
      for (const role of PLAN_ROLES) {
        new ProjectIamMember(this, `plan-${target}-${roleId(role)}`, { project, role, member });
      }
      const reader = new ProjectIamCustomRole(this, `plan-${target}-reader-role`, {
        project,
        roleId: "switchboardPlanReader",
        title: "Switchboard plan reader",
        description: "What terraform plan reads that no predefined viewer role grants (CiIdentities)",
        permissions: planReaderPermissions(props.billingAccount !== undefined),
      });
      new ProjectIamMember(this, `plan-${target}-reader`, { project, role: reader.name, member });
    }
  }

  private grantDeploy(props: CiIdentitiesProps): void {
    const member = `serviceAccount:${this.deploy.email}`;
    const grantable = props.deployGrantableRoles ?? Identity.GRANTABLE_PROJECT_ROLES;
    for (const [target, project] of Object.entries(props.targetProjects)) {
      for (const role of DEPLOY_ROLES) {
        const grant = new ProjectIamMember(this, `deploy-${target}-${roleId(role)}`, {
          project,
          role,
          member,
          ...(role === PROJECT_IAM_ADMIN ? { condition: grantLimitCondition(grantable) } : {}),
        });
        if (/admin/i.test(role)) exempt(grant, "CKV_GCP_42", DEPLOY_EXEMPTION);
      }
    }
    // Budgets are created on the billing account; the plan identity reads them through the project.
    if (props.billingAccount) {
      new BillingAccountIamMember(this, "deploy-billing", {
        billingAccountId: props.billingAccount,
        role: "roles/billing.costsManager",
        member,
      });
    }
  }
}
