import {
  ComputeSecurityPolicy,
  type ComputeSecurityPolicyRule,
} from "@cdktf/provider-google/lib/compute-security-policy";
import { Construct } from "constructs";
import type { ArmorSpec } from "../environments";

export interface ArmorPolicyProps {
  readonly projectId: string;
  /** @default "switchboard-edge" */
  readonly name?: string;
  readonly spec: ArmorSpec;
}

/** Intervals Cloud Armor accepts for rate_limit_threshold.interval_sec. */
const RATE_INTERVALS = new Set([10, 30, 60, 120, 180, 240, 300, 600, 900, 1200, 1800, 2700, 3600]);

/** Signed webhook deliveries (Intercom) come in bursts from few IPs and carry customers' free text. */
const NOT_WEBHOOKS = "!request.path.startsWith('/webhooks/')";

export const RATE_BAN_PRIORITY = 1000;
export const WAF_FIRST_PRIORITY = 2000;
export const DEFAULT_RULE_PRIORITY = 2147483647;

/**
 * The Cloud Armor policy on the load balancer's backend, as rows of data:
 * - a per-client-IP rate-based ban (https://cloud.google.com/armor/docs/rate-limiting-overview): past the
 *   threshold a client gets 429 and stays banned for `banDurationSec`. Keyed on `IP`, the address the load
 *   balancer saw, never `XFF_IP` (the first X-Forwarded-For entry, which the client writes itself);
 * - one deny(403) rule per preconfigured OWASP CRS rule set
 *   (https://cloud.google.com/armor/docs/waf-rules), in preview (logged, not enforced) while `wafPreview`
 *   is true, so false positives on chat text can be tuned before anything is blocked;
 * - the default allow rule, written out so Terraform owns it.
 * Both skip /webhooks/*: those are signed and verified before they are parsed. JSON bodies are parsed
 * (`jsonParsing: STANDARD`) so the WAF sees field values, not one JSON string, and matches are logged
 * verbosely for tuning.
 */
export class ArmorPolicy extends Construct {
  readonly policy: ComputeSecurityPolicy;

  constructor(scope: Construct, id: string, props: ArmorPolicyProps) {
    super(scope, id);
    const { spec } = props;
    const { rateLimit } = spec;
    if (!RATE_INTERVALS.has(rateLimit.intervalSec)) {
      throw new Error(
        `ArmorPolicy: rate limit interval ${rateLimit.intervalSec}s is not one Cloud Armor accepts`,
      );
    }
    const rules: ComputeSecurityPolicyRule[] = [
      {
        priority: RATE_BAN_PRIORITY,
        description: `Ban a client IP over ${rateLimit.count} requests / ${rateLimit.intervalSec}s`,
        action: "rate_based_ban",
        match: { expr: { expression: NOT_WEBHOOKS } },
        rateLimitOptions: {
          enforceOnKey: "IP",
          conformAction: "allow",
          exceedAction: "deny(429)",
          rateLimitThreshold: { count: rateLimit.count, intervalSec: rateLimit.intervalSec },
          banDurationSec: rateLimit.banDurationSec,
        },
      },
      ...spec.wafRules.map(
        (ruleSet, i): ComputeSecurityPolicyRule => ({
          priority: WAF_FIRST_PRIORITY + i,
          description: `OWASP CRS ${ruleSet}`,
          action: "deny(403)",
          preview: spec.wafPreview,
          match: {
            expr: {
              expression: `${NOT_WEBHOOKS} && evaluatePreconfiguredWaf('${ruleSet}', {'sensitivity': ${spec.wafSensitivity}})`,
            },
          },
        }),
      ),
      {
        priority: DEFAULT_RULE_PRIORITY,
        description: "Default: allow",
        action: "allow",
        match: { versionedExpr: "SRC_IPS_V1", config: { srcIpRanges: ["*"] } },
      },
    ];
    this.policy = new ComputeSecurityPolicy(this, "policy", {
      project: props.projectId,
      name: props.name ?? "switchboard-edge",
      description: "Switchboard edge: per-client rate ban and OWASP CRS rules",
      type: "CLOUD_ARMOR",
      advancedOptionsConfig: { jsonParsing: "STANDARD", logLevel: "VERBOSE" },
      rule: rules,
    });
  }
}
