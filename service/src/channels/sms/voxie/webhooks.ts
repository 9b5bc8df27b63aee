import type { InboundRequest, WebhookVerifier } from "../../pipeline/channel";
import type { SmsConnectionSecrets, SmsWebhooks } from "../provider";
import { parseCloudEvent, teamIdOf, tenantNumberOf, toSmsEvents, tryParseCloudEvent } from "./cloud-event";
import {
  componentValue,
  digestMatches,
  ECDSA_P256_SHA256,
  signatureBase,
  verifyEcdsaP256,
} from "./message-signature";
import { parseSignatureInput, parseSignatures, type SignatureInput } from "./signature-fields";
import { type FetchKey, fetchPem, keyCache, trustedKeyUrl, VOXIE_KEY_HOST } from "./signing-keys";

/**
 * Voxie's webhooks (https://docs.voxie.com/reference/getting-started-with-your-api): CloudEvents POSTed to
 * the subscription's https sink, signed per HTTP Message Signatures draft-05 with ecdsa-p256-sha256, the
 * keyid a URL of the public key on registry.voxie.com, covering `date`, `content-type`, `digest`,
 * `content-length`, `user-agent` and `@request-target`, with `Digest: SHA-256=<base64>` carrying the body.
 */

export interface VoxieWebhooksOptions {
  /** Fetches a key URL; the default GETs the PEM over https without following redirects. */
  fetchKey?: FetchKey;
  /** The only host keys are fetched from. @default "registry.voxie.com" */
  keyHost?: string;
  /** The clock the key cache's TTL runs on (signature times are checked against `receivedAt`). */
  clock?: () => Date;
  /** @default { ttlMs: 1 h, maxEntries: 16 } */
  keyCache?: { ttlMs?: number; maxEntries?: number };
}

/** How far a signed `Date` (or `created`) may be from arrival, either way: replays outside it are refused. */
const TOLERANCE_S = 300;

/**
 * What this application requires of a signature beyond a valid ECDSA value (draft-05 §3.2.1): Voxie's
 * algorithm, the body (through `digest`) and the target covered, and a signed time to bound replays.
 */
function meetsRequirements(input: SignatureInput, request: InboundRequest): boolean {
  if (input.params.get("alg") !== ECDSA_P256_SHA256) return false;
  if (!input.components.includes("digest") || !input.components.includes("@request-target")) return false;
  const arrived = request.receivedAt.getTime() / 1000;
  const created = input.params.get("created");
  const expires = input.params.get("expires");
  if (created !== undefined && !withinTolerance(Number(created), arrived)) return false;
  if (expires !== undefined && !(Number(expires) >= arrived)) return false;
  if (input.components.includes("date")) {
    const date = Date.parse(request.header("date") ?? "");
    if (!withinTolerance(date / 1000, arrived)) return false;
  } else if (created === undefined) {
    return false;
  }
  return true;
}

const withinTolerance = (seconds: number, arrived: number): boolean =>
  Number.isFinite(seconds) && Math.abs(arrived - seconds) <= TOLERANCE_S;

/**
 * Voxie signs with one key for every team, so a valid signature says only "Voxie sent this". The event's
 * `team_id` ties it to the connection whose number it was routed by; a connection without a `teamId`
 * setting cannot be tied to anything and verifies nothing.
 */
function teamMatches(connection: SmsConnectionSecrets, request: InboundRequest): boolean {
  const expected = connection.settings.teamId;
  if ((typeof expected !== "string" && typeof expected !== "number") || String(expected).trim() === "") {
    return false;
  }
  const event = tryParseCloudEvent(request.body);
  return event !== undefined && teamIdOf(event) === String(expected).trim();
}

export function voxieWebhooks(opts: VoxieWebhooksOptions = {}): SmsWebhooks {
  const keyHost = opts.keyHost ?? VOXIE_KEY_HOST;
  const clock = opts.clock;
  const keys = keyCache({
    fetchKey: opts.fetchKey ?? fetchPem,
    ttlMs: opts.keyCache?.ttlMs,
    maxEntries: opts.keyCache?.maxEntries,
    now: clock ? () => clock().getTime() : Date.now,
  });

  /** One declared signature, checked in order of cost: its form, then the body, then the key and ECDSA. */
  async function verifyOne(input: SignatureInput, signature: Buffer, request: InboundRequest) {
    if (!meetsRequirements(input, request)) return false;
    const keyid = input.params.get("keyid");
    const keyUrl = keyid === undefined ? undefined : trustedKeyUrl(keyid, keyHost);
    if (!keyUrl || !digestMatches(request.header("digest"), request.body)) return false;
    const base = signatureBase(input, (component) => componentValue(request, component));
    if (base === undefined) return false;
    const key = await keys(keyUrl.href);
    return key !== undefined && verifyEcdsaP256(key, base, signature);
  }

  async function verify(connection: SmsConnectionSecrets, request: InboundRequest): Promise<boolean> {
    const inputs = parseSignatureInput(request.header("signature-input"));
    const signatures = parseSignatures(request.header("signature"));
    if (!inputs || !signatures || !teamMatches(connection, request)) return false;
    for (const input of inputs) {
      const signature = signatures.get(input.label);
      if (signature && (await verifyOne(input, signature, request))) return true;
    }
    return false;
  }

  return {
    provider: "voxie",
    routingNumber(request) {
      const event = tryParseCloudEvent(request.body);
      return event ? tenantNumberOf(event) : undefined;
    },
    verifier(connection): WebhookVerifier {
      return {
        verify: (request) => verify(connection, request).catch(() => false),
      };
    },
    read(request) {
      return toSmsEvents(parseCloudEvent(request.body));
    },
  };
}
