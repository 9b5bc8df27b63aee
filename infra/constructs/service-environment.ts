import type { ITerraformDependable } from "cdktf";

/** A construct that gives the Cloud Run services using it env vars, and what their revisions must wait for. */
export interface ServiceEnvironmentSource {
  addToEnvironment(environment: ServiceEnvironment): void;
}

/**
 * What a Cloud Run service's container reads when it starts: plain env vars, env vars Cloud Run fills from
 * Secret Manager, and the resources behind them that must exist before the first revision (a user it logs
 * in as, the grants that let it read a secret).
 *
 * Filled by the constructs that produce the values (Database adds its connection settings, TaskQueue its
 * path, Secrets their references), in the manner of the Cloud Run builder of Sourcegraph's managed
 * services platform, so each value is written beside the resource it comes from. A name set twice is an
 * error, not a silent override: two constructs disagreeing about a variable would otherwise be decided by
 * the order they were added in.
 */
export class ServiceEnvironment {
  private readonly plain = new Map<string, string>();
  private readonly secret = new Map<string, string>();
  private readonly prerequisites: ITerraformDependable[] = [];

  /** A plain variable (never a credential: guardrail SB_RUN_SECRET_ENV). */
  set(name: string, value: string): this {
    this.claim(name);
    this.plain.set(name, value);
    return this;
  }

  /** A variable Cloud Run reads from Secret Manager: `secretId` at `version`. @default version "latest" */
  setSecret(name: string, secretId: string, version?: number): this {
    this.claim(name);
    this.secret.set(name, version === undefined ? secretId : `${secretId}@${version}`);
    return this;
  }

  /**
   * Resources a revision needs that nothing in its configuration references, so Terraform cannot see the
   * dependency: the service is created after them. Each caller says why in a comment.
   */
  waitFor(...resources: readonly ITerraformDependable[]): this {
    this.prerequisites.push(...resources);
    return this;
  }

  /** Adds what each source contributes, in order. */
  add(...sources: readonly ServiceEnvironmentSource[]): this {
    for (const source of sources) source.addToEnvironment(this);
    return this;
  }

  /** A copy to add one service's own variables to. */
  copy(): ServiceEnvironment {
    const copy = new ServiceEnvironment();
    for (const [name, value] of this.plain) copy.plain.set(name, value);
    for (const [name, ref] of this.secret) copy.secret.set(name, ref);
    copy.prerequisites.push(...this.prerequisites);
    return copy;
  }

  /** Plain variables by name. */
  get env(): Readonly<Record<string, string>> {
    return Object.fromEntries(this.plain);
  }

  /** Secret Manager variables: name → secret id, or `id@N` for version N. */
  get secretEnv(): Readonly<Record<string, string>> {
    return Object.fromEntries(this.secret);
  }

  get dependsOn(): readonly ITerraformDependable[] {
    return [...this.prerequisites];
  }

  private claim(name: string): void {
    if (this.plain.has(name) || this.secret.has(name)) {
      throw new Error(`service environment: ${name} is set twice`);
    }
  }
}
