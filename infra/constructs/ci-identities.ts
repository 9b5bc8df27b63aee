import { BillingAccountIamMember } from "@cdktf/provider-google/lib/billing-account-iam-member";
import { ProjectIamMember } from "@cdktf/provider-google/lib/project-iam-member";
import { ServiceAccount } from "@cdktf/provider-google/lib/service-account";
import { ServiceAccountIamMember } from "@cdktf/provider-google/lib/service-account-iam-member";
import { StorageBucketIamMember } from "@cdktf/provider-google/lib/storage-bucket-iam-member";
import { Construct } from "constructs";
import { exempt } from "../guardrails/guardrails";
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
  /** Billing account the budgets live on. @default undefined (no billing grants) */
  readonly billingAccount?: string;
}

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
  "roles/artifactregistry.reader",
  "roles/monitoring.viewer",
  "roles/logging.viewer",
] as const;

/**
 * Terraform `apply` creates and changes every resource type of the platform stack, including IAM policy.
 * Many of these are admin roles, which guardrail CKV_GCP_42 forbids for service accounts: each grant is
 * exempted with DEPLOY_EXEMPTION below.
 */
export const DEPLOY_ROLES = [
  "roles/serviceusage.serviceUsageAdmin",
  "roles/resourcemanager.projectIamAdmin",
  "roles/iam.serviceAccountAdmin",
  "roles/iam.serviceAccountUser",
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
  "roles/artifactregistry.admin",
  "roles/monitoring.admin",
  "roles/logging.configWriter",
] as const;

const DEPLOY_EXEMPTION =
  "The deploy identity is Terraform apply: it must create and change every resource type of the platform " +
  "stack. It has no key, and only main-branch workflow runs of one repository can impersonate it (WIF).";

/** The read-only plan identity (pull requests) and the deploy identity (merges to main), keyless. */
export class CiIdentities extends Construct {
  readonly plan: ServiceAccount;
  readonly deploy: ServiceAccount;

  constructor(scope: Construct, id: string, props: CiIdentitiesProps) {
    super(scope, id);
    this.plan = new ServiceAccount(this, "plan", {
      project: props.projectId,
      accountId: "switchboard-ci-plan",
      displayName: "Switchboard CI: terraform plan (read-only, pull requests)",
    });
    this.deploy = new ServiceAccount(this, "deploy", {
      project: props.projectId,
      accountId: "switchboard-ci-deploy",
      displayName: "Switchboard CI: terraform apply and image deploys (main branch)",
    });

    // Plan reads state (and runs with -lock=false); deploy reads, writes and locks it.
    const identities = [
      {
        id: "plan",
        account: this.plan,
        principalSet: props.planPrincipalSet,
        stateRole: "roles/storage.objectViewer",
        projectRoles: PLAN_ROLES,
        billingRole: "roles/billing.viewer",
      },
      {
        id: "deploy",
        account: this.deploy,
        principalSet: props.deployPrincipalSet,
        stateRole: "roles/storage.objectUser",
        projectRoles: DEPLOY_ROLES,
        billingRole: "roles/billing.costsManager",
        adminExemption: DEPLOY_EXEMPTION,
      },
    ];
    for (const identity of identities) {
      const member = `serviceAccount:${identity.account.email}`;
      new ServiceAccountIamMember(this, `${identity.id}-federation`, {
        serviceAccountId: identity.account.name,
        role: "roles/iam.workloadIdentityUser",
        member: identity.principalSet,
      });
      new StorageBucketIamMember(this, `${identity.id}-state`, {
        bucket: props.stateBucketName,
        role: identity.stateRole,
        member,
      });
      for (const [target, project] of Object.entries(props.targetProjects)) {
        for (const role of identity.projectRoles) {
          const grant = new ProjectIamMember(this, `${identity.id}-${target}-${roleId(role)}`, {
            project,
            role,
            member,
          });
          if (identity.adminExemption && /admin/i.test(role))
            exempt(grant, "CKV_GCP_42", identity.adminExemption);
        }
      }
      if (props.billingAccount) {
        new BillingAccountIamMember(this, `${identity.id}-billing`, {
          billingAccountId: props.billingAccount,
          role: identity.billingRole,
          member,
        });
      }
    }
  }
}
