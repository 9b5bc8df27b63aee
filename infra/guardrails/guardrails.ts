import { TerraformResource, type TerraformStack } from "cdktf";
import type { IConstruct } from "constructs";
import { type Config, RULE_IDS, RULES, type RuleContext } from "./rules";

/**
 * Guardrails: every rule in ./rules.ts checked against every resource of a stack when it synthesizes.
 * A violation fails synth with the rule id, the Terraform address and the construct path.
 *
 * Exemptions are explicit and per resource: `exempt(resource, "RULE_ID", "why this one is fine")`. The
 * reason is written into the resource's `//` comment block in cdk.tf.json (visible in review), an unknown
 * rule id throws at once, and an exemption that no longer matches a violation fails synth as stale.
 */

export interface GuardrailOptions {
  /** Deletion protection required on stateful resources. @default true */
  readonly requireDataProtection?: boolean;
  /** @default ["app", "env", "managed_by"] */
  readonly requiredLabels?: readonly string[];
}

export interface Finding {
  readonly ruleId: string;
  /** Terraform address, `type.name`. */
  readonly address: string;
  /** Construct path, e.g. `prod/database/instance`. */
  readonly path: string;
  readonly message: string;
  /** Set when an exemption covers the finding. */
  readonly exemptedBecause?: string;
}

const MIN_REASON_LENGTH = 20;
const exemptions = new WeakMap<IConstruct, Map<string, string>>();

/** Exempt one resource from one rule, with the reason a reviewer can judge. */
export function exempt(resource: TerraformResource, ruleId: string, reason: string): void {
  if (!RULE_IDS.has(ruleId))
    throw new Error(`exempt(${resource.node.path}): unknown guardrail rule ${ruleId}`);
  if (reason.trim().length < MIN_REASON_LENGTH) {
    throw new Error(
      `exempt(${resource.node.path}, ${ruleId}): give a reason of at least ${MIN_REASON_LENGTH} characters`,
    );
  }
  const map = exemptions.get(resource) ?? new Map<string, string>();
  map.set(ruleId, reason);
  exemptions.set(resource, map);
  resource.addOverride(`//.guardrail_exemptions.${ruleId}`, reason);
}

interface StackJson {
  readonly provider?: Record<string, Config[]>;
  readonly resource?: Record<string, Record<string, Config>>;
}

/** Run every rule over every resource of the stack; exempted findings are returned with their reason. */
export function evaluateGuardrails(stack: TerraformStack, options: GuardrailOptions = {}): Finding[] {
  // The stack's own synthesized form: tokens resolved, overrides applied, snake_case keys.
  const tf = stack.toTerraform() as StackJson;
  const ctx: RuleContext = {
    requireDataProtection: options.requireDataProtection ?? true,
    requiredLabels: options.requiredLabels ?? ["app", "env", "managed_by"],
    providerDefaultLabels:
      (tf.provider?.google?.[0]?.default_labels as Record<string, unknown> | undefined) ?? {},
  };
  const findings: Finding[] = [];
  for (const node of stack.node.findAll()) {
    if (!(node instanceof TerraformResource)) continue;
    const type = node.terraformResourceType;
    const config = tf.resource?.[type]?.[node.friendlyUniqueId] ?? {};
    const address = `${type}.${node.friendlyUniqueId}`;
    const exempted = exemptions.get(node) ?? new Map<string, string>();
    const fired = new Set<string>();
    for (const rule of RULES) {
      if (rule.types !== "*" && !rule.types.includes(type)) continue;
      const message = rule.check(config, ctx, type);
      if (!message) continue;
      fired.add(rule.id);
      const reason = exempted.get(rule.id);
      findings.push({
        ruleId: rule.id,
        address,
        path: node.node.path,
        message,
        ...(reason ? { exemptedBecause: reason } : {}),
      });
    }
    for (const ruleId of exempted.keys()) {
      if (!fired.has(ruleId)) {
        findings.push({
          ruleId,
          address,
          path: node.node.path,
          message: "stale exemption: the rule no longer fires on this resource; remove the exempt() call",
        });
      }
    }
  }
  return findings;
}

export function formatFinding(f: Finding): string {
  return `${f.ruleId} ${f.address} (${f.path}): ${f.message}`;
}

/** Make the stack's synth fail on any unexempted finding. */
export function applyGuardrails(stack: TerraformStack, options: GuardrailOptions = {}): void {
  stack.node.addValidation({
    validate: () =>
      evaluateGuardrails(stack, options)
        .filter((f) => !f.exemptedBecause)
        .map((f) => `guardrail ${formatFinding(f)}`),
  });
}
