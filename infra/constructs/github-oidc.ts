import { IamWorkloadIdentityPool } from "@cdktf/provider-google/lib/iam-workload-identity-pool";
import { IamWorkloadIdentityPoolProvider } from "@cdktf/provider-google/lib/iam-workload-identity-pool-provider";
import { Construct } from "constructs";

export interface GithubOidcProps {
  readonly projectId: string;
  /** `owner/name`; the only repository whose workflows may federate. */
  readonly repository: string;
  /**
   * Numeric GitHub id of the repository owner. Pins federation to the owner account, not just its name,
   * so a deleted and re-registered organisation name cannot federate.
   * @default undefined (repository name only)
   */
  readonly repositoryOwnerId?: string;
  /** @default "github" */
  readonly poolId?: string;
  /** @default "github-actions" */
  readonly providerId?: string;
}

/**
 * Workload Identity Federation for GitHub Actions: a pool and an OIDC provider that trusts
 * token.actions.githubusercontent.com, restricted by attribute condition to one repository, so CI gets
 * short-lived credentials and no service account key exists anywhere.
 * https://cloud.google.com/iam/docs/workload-identity-federation-with-deployment-pipelines
 */
export class GithubOidc extends Construct {
  readonly pool: IamWorkloadIdentityPool;
  readonly provider: IamWorkloadIdentityPoolProvider;
  /** `principalSet://…/attribute.repository/owner/name`: every workflow run of the repository. */
  readonly repositoryPrincipalSet: string;
  /** `principalSet://…/attribute.ref/refs/heads/main`: runs on the main branch only (not pull requests). */
  readonly mainBranchPrincipalSet: string;

  constructor(scope: Construct, id: string, props: GithubOidcProps) {
    super(scope, id);
    this.pool = new IamWorkloadIdentityPool(this, "pool", {
      project: props.projectId,
      workloadIdentityPoolId: props.poolId ?? "github",
      displayName: "GitHub Actions",
      description: `CI of ${props.repository}`,
    });
    this.provider = new IamWorkloadIdentityPoolProvider(this, "provider", {
      project: props.projectId,
      workloadIdentityPoolId: this.pool.workloadIdentityPoolId,
      workloadIdentityPoolProviderId: props.providerId ?? "github-actions",
      displayName: "GitHub Actions OIDC",
      attributeMapping: {
        "google.subject": "assertion.sub",
        "attribute.repository": "assertion.repository",
        "attribute.repository_owner": "assertion.repository_owner",
        "attribute.ref": "assertion.ref",
        "attribute.event_name": "assertion.event_name",
      },
      // pull_request_target runs with the base branch's ref (refs/heads/main) on behalf of forks: never
      // let it federate, or it could impersonate the main-branch deploy identity.
      attributeCondition: [
        `assertion.repository == "${props.repository}"`,
        ...(props.repositoryOwnerId ? [`assertion.repository_owner_id == "${props.repositoryOwnerId}"`] : []),
        `assertion.event_name != "pull_request_target"`,
      ].join(" && "),
      oidc: { issuerUri: "https://token.actions.githubusercontent.com" },
    });
    const base = `principalSet://iam.googleapis.com/${this.pool.name}`;
    this.repositoryPrincipalSet = `${base}/attribute.repository/${props.repository}`;
    this.mainBranchPrincipalSet = `${base}/attribute.ref/refs/heads/main`;
  }
}
