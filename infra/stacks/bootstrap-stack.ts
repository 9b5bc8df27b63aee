import { GoogleProvider } from "@cdktf/provider-google/lib/provider";
import { LocalBackend, TerraformOutput } from "cdktf";
import type { Construct } from "constructs";
import { CiIdentities } from "../constructs/ci-identities";
import { GithubOidc } from "../constructs/github-oidc";
import { ProjectServices } from "../constructs/project-services";
import { StateBucket } from "../constructs/state-bucket";
import { applyGuardrails } from "../guardrails/guardrails";
import { ENVIRONMENT_NAMES, type Site } from "../site";
import { PinnedStack } from "./pinned-stack";

export interface BootstrapStackProps {
  readonly site: Site;
}

/**
 * What every other stack needs first, applied once by a human with owner rights on the bootstrap
 * project: the Terraform state bucket, GitHub OIDC federation, and the keyless plan and deploy identities
 * with their grants on each environment's project. Its own state is local (the bucket does not exist yet);
 * docs/infrastructure.md shows how to migrate it into the bucket afterwards.
 */
export class BootstrapStack extends PinnedStack {
  readonly stateBucket: StateBucket;
  readonly oidc: GithubOidc;
  readonly ci: CiIdentities;

  constructor(scope: Construct, id: string, props: BootstrapStackProps) {
    super(scope, id);
    const { site } = props;
    const labels = { app: "switchboard", env: "bootstrap", managed_by: "cdktf" };
    new LocalBackend(this, { path: "../../../terraform.bootstrap.tfstate" });
    new GoogleProvider(this, "google", {
      project: site.bootstrapProjectId,
      region: site.region,
      defaultLabels: labels,
      // Bill API quota (Cloud Billing IAM, IAM, STS) to the bootstrap project rather than the caller's.
      userProjectOverride: true,
      billingProject: site.bootstrapProjectId,
    });

    const apis = new ProjectServices(this, "apis", {
      projectId: site.bootstrapProjectId,
      apis: bootstrapApis(site),
    });

    this.stateBucket = new StateBucket(this, "state", {
      projectId: site.bootstrapProjectId,
      name: site.stateBucket,
      location: site.region,
      labels,
    });
    this.oidc = new GithubOidc(this, "github-oidc", {
      projectId: site.bootstrapProjectId,
      repository: site.githubRepository,
      ...(site.githubRepositoryOwnerId ? { repositoryOwnerId: site.githubRepositoryOwnerId } : {}),
    });
    this.ci = new CiIdentities(this, "ci", {
      projectId: site.bootstrapProjectId,
      targetProjects: Object.fromEntries(ENVIRONMENT_NAMES.map((n) => [n, site.environments[n].projectId])),
      stateBucketName: this.stateBucket.bucket.name,
      planPrincipalSet: this.oidc.repositoryPrincipalSet,
      deployPrincipalSet: this.oidc.mainBranchPrincipalSet,
      ...(site.billingAccount ? { billingAccount: site.billingAccount } : {}),
    });

    // Service accounts, IAM grants (in the environment projects too) and billing grants all go through this
    // project's APIs (user_project_override): each waits for them, as in the platform stacks.
    apis.gate(this);

    this.outputs();

    applyGuardrails(this, { requireDataProtection: true });
  }

  private outputs(): void {
    new TerraformOutput(this, "state_bucket", { value: this.stateBucket.bucket.name });
    new TerraformOutput(this, "workload_identity_provider", {
      value: this.oidc.provider.name,
      description: "google-github-actions/auth `workload_identity_provider`",
    });
    new TerraformOutput(this, "plan_service_account", { value: this.ci.plan.email });
    new TerraformOutput(this, "deploy_service_account", { value: this.ci.deploy.email });
  }
}

/** APIs the bootstrap project serves: state, keyless CI identities and, with billing, the budget grants. */
function bootstrapApis(site: Site): string[] {
  return [
    "cloudresourcemanager.googleapis.com",
    "iam.googleapis.com",
    "iamcredentials.googleapis.com",
    "sts.googleapis.com",
    "storage.googleapis.com",
    "serviceusage.googleapis.com",
    ...(site.billingAccount ? ["cloudbilling.googleapis.com", "billingbudgets.googleapis.com"] : []),
  ];
}
