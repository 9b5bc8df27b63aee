import { SecretManagerSecret } from "@cdktf/provider-google/lib/secret-manager-secret";
import { SecretManagerSecretIamMember } from "@cdktf/provider-google/lib/secret-manager-secret-iam-member";
import { Construct } from "constructs";
import type { SecretSpec } from "../environments";

export interface SecretsProps {
  readonly projectId: string;
  readonly secrets: readonly SecretSpec[];
  /** The one principal allowed to read the values (`serviceAccount:…`). */
  readonly accessor: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Refuse `terraform destroy` of the secrets. @default true */
  readonly deletionProtection?: boolean;
}

/**
 * One Secret Manager secret per credential, the runtime identity granted `secretAccessor` on each secret
 * (never project-wide). Terraform creates the containers only: values are added out of band
 * (`gcloud secrets versions add`), so no secret ever enters a plan or the state (SB_SECRET_INLINE_VALUE).
 */
export class Secrets extends Construct {
  /** Secret resources by env var name, for Cloud Run's `secret_key_ref`. */
  readonly byEnvVar: ReadonlyMap<string, SecretManagerSecret>;
  /** The per-secret accessor grants: a revision that reads the secrets must wait for them. */
  readonly accessGrants: readonly SecretManagerSecretIamMember[];

  constructor(scope: Construct, id: string, props: SecretsProps) {
    super(scope, id);
    const byEnvVar = new Map<string, SecretManagerSecret>();
    const accessGrants: SecretManagerSecretIamMember[] = [];
    for (const spec of props.secrets) {
      const secret = new SecretManagerSecret(this, spec.id, {
        project: props.projectId,
        secretId: spec.id,
        labels: { ...props.labels },
        annotations: { "switchboard-env-var": spec.envVar, "switchboard-description": spec.description },
        replication: { auto: {} },
        deletionProtection: props.deletionProtection ?? true,
      });
      const grant = new SecretManagerSecretIamMember(this, `${spec.id}-accessor`, {
        project: props.projectId,
        secretId: secret.secretId,
        role: "roles/secretmanager.secretAccessor",
        member: props.accessor,
      });
      byEnvVar.set(spec.envVar, secret);
      accessGrants.push(grant);
    }
    this.byEnvVar = byEnvVar;
    this.accessGrants = accessGrants;
  }
}
