import { SecretManagerSecret } from "@cdktf/provider-google/lib/secret-manager-secret";
import { SecretManagerSecretIamMember } from "@cdktf/provider-google/lib/secret-manager-secret-iam-member";
import type { ServiceAccount } from "@cdktf/provider-google/lib/service-account";
import { Construct } from "constructs";
import type { SecretSpec } from "../environments";
import { serviceAccountMember } from "./naming";
import type { ServiceEnvironment, ServiceEnvironmentSource } from "./service-environment";

export interface SecretsProps {
  readonly projectId: string;
  readonly secrets: readonly SecretSpec[];
  /** The one identity allowed to read the values (the runtime). */
  readonly accessor: Pick<ServiceAccount, "email">;
  readonly labels: Readonly<Record<string, string>>;
  /** Refuse `terraform destroy` of the secrets. @default true */
  readonly deletionProtection?: boolean;
  /**
   * Ids of the secrets that have a version: only these reach the services. Cloud Run refuses to start a
   * revision whose secret has none, so a secret added later waits until it is set and listed.
   * @default [] (none)
   */
  readonly ready?: readonly string[];
  /**
   * Pinned previous versions during a rotation, by secret id, exposed under the spec's
   * `previousVersionEnvVar`. @default {}
   */
  readonly previousVersions?: Readonly<Record<string, number>>;
}

/**
 * One Secret Manager secret per credential, the runtime identity granted `secretAccessor` on each secret
 * (never project-wide). Terraform creates the containers only: values are added out of band
 * (`gcloud secrets versions add`), so no secret ever enters a plan or the state (SB_SECRET_INLINE_VALUE).
 * The services that use them get their references from here (addToEnvironment).
 */
export class Secrets extends Construct implements ServiceEnvironmentSource {
  /** Secret resources by env var name, for Cloud Run's `secret_key_ref`. */
  readonly byEnvVar: ReadonlyMap<string, SecretManagerSecret>;
  /** The per-secret accessor grants: a revision that reads the secrets must wait for them. */
  readonly accessGrants: readonly SecretManagerSecretIamMember[];
  private readonly secrets: readonly { readonly spec: SecretSpec; readonly secret: SecretManagerSecret }[];
  private readonly ready: ReadonlySet<string>;
  private readonly previousVersions: Readonly<Record<string, number>>;

  constructor(scope: Construct, id: string, props: SecretsProps) {
    super(scope, id);
    this.ready = new Set(props.ready ?? []);
    this.previousVersions = props.previousVersions ?? {};
    const secrets: { spec: SecretSpec; secret: SecretManagerSecret }[] = [];
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
        member: serviceAccountMember(props.accessor),
      });
      secrets.push({ spec, secret });
      accessGrants.push(grant);
    }
    this.secrets = secrets;
    this.byEnvVar = new Map(secrets.map(({ spec, secret }) => [spec.envVar, secret]));
    this.accessGrants = accessGrants;
  }

  /** The ready secrets, each as its spec says the service reads it. */
  addToEnvironment(environment: ServiceEnvironment): void {
    for (const { spec, secret } of this.secrets.filter((s) => this.ready.has(s.spec.id))) {
      // The literal id (not a Terraform reference): the secret of this name is created here.
      if (spec.readBy === "service") environment.set(spec.envVar, `sm://${spec.id}`);
      else environment.setSecret(spec.envVar, secret.secretId);
      const previous = this.previousVersions[spec.id];
      if (spec.previousVersionEnvVar && previous !== undefined) {
        environment.setSecret(spec.previousVersionEnvVar, secret.secretId, previous);
      }
    }
    // The revision reads the values as it starts. Grants are never referenced, and neither are secrets the
    // service resolves itself (sm://) or has no version of yet.
    environment.waitFor(...this.byEnvVar.values(), ...this.accessGrants);
  }
}
