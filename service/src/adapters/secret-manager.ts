import { SecretManagerServiceClient } from "@google-cloud/secret-manager";
import type { SecretSource } from "../ports/secret-source";

export type SecretManagerClientOptions = ConstructorParameters<typeof SecretManagerServiceClient>[0];

/** A version's payload as text (the client hands bytes, or a string in some transports). */
export function payloadText(
  version: { payload?: { data?: Uint8Array | string | null } | null },
  name: string,
): string {
  const data = version.payload?.data;
  if (data === undefined || data === null) throw new Error(`secret ${name} has no payload`);
  return typeof data === "string" ? data : Buffer.from(data).toString("utf8");
}

export class SecretManagerSource implements SecretSource {
  private readonly client: SecretManagerServiceClient;

  constructor(options?: SecretManagerClientOptions) {
    this.client = new SecretManagerServiceClient(options);
  }

  async access(name: string): Promise<string> {
    const [version] = await this.client.accessSecretVersion({ name });
    return payloadText(version, name);
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
