/** Telnyx's Ed25519 webhook signature serves its SMS and voice webhooks alike: one implementation, shared. */
export {
  TELNYX_TOLERANCE_SECONDS,
  telnyxPublicKey,
  telnyxVerifier,
  verifyTelnyxSignature,
} from "../../pipeline/telnyx-signature";
