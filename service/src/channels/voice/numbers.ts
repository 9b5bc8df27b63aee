/**
 * The tenants' Telnyx connections as the voice channel finds them. One connection (`kind: "telnyx"`: the
 * number, its API key and the account's public key) serves texts and calls alike, so the SMS channel's
 * directory implements this; composition hands it in (channels never import each other).
 */

/** A connection's credentials and settings (read from the SecretStore; never logged or stored). */
export interface VoiceConnectionSecrets {
  connectionId: string;
  phoneNumber: string;
  /** `apiKey` (reads transcripts), `publicKey` (verifies Telnyx's signatures). */
  credentials: Readonly<Record<string, string>>;
}

/** Where a number or a connection id leads. */
export type VoiceRoute =
  | { kind: "unknown" }
  /** Its tenant is suspended or the connection disabled: nothing is stored or told. */
  | { kind: "inactive"; tenantId: string; connectionId: string }
  | { kind: "found"; tenantId: string; connection: VoiceConnectionSecrets };

export interface VoiceNumbers {
  byNumber(provider: "telnyx", phoneNumber: string): Promise<VoiceRoute>;
  byConnectionId(provider: "telnyx", connectionId: string): Promise<VoiceRoute>;
  /** A signature that did not verify: credentials cached a while are read again at the next try. */
  refused(connectionId: string): void;
  /** One of the tenant's active connections, with its credentials. */
  secretsOf(tenantId: string, connectionId: string): Promise<VoiceConnectionSecrets | undefined>;
}
