/** Where secret values come from: Secret Manager in Cloud, nothing locally (plain env vars). */
export interface SecretSource {
  /** `name` is a full resource name: projects/P/secrets/S/versions/V. */
  access(name: string): Promise<string>;
}
