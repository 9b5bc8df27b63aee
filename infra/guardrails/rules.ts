/**
 * Policy rules checked at synth against each resource's Terraform configuration (snake_case, as written to
 * cdk.tf.json). Rule ids are Checkov's where an upstream rule exists and `SB_*` for
 * Switchboard's own. Each rule returns a sentence saying what is wrong and how to fix it, or undefined.
 *
 * Values that are references to other resources (`${google_x.y.id}`) count as "set".
 */

import { GMAIL_PUSH_PUBLISHER } from "../constructs/naming";

export type Config = Readonly<Record<string, unknown>>;

export interface RuleContext {
  /** Deletion protection required on stateful resources (staging, prod). */
  readonly requireDataProtection: boolean;
  /** Labels every labelable resource must carry. */
  readonly requiredLabels: readonly string[];
  /** The provider's `default_labels`, merged into each resource's labels by the provider. */
  readonly providerDefaultLabels: Readonly<Record<string, unknown>>;
}

export interface Rule {
  readonly id: string;
  readonly title: string;
  /** Terraform resource types the rule looks at; `*` for all. */
  readonly types: readonly string[] | "*";
  check(config: Config, ctx: RuleContext, type: string): string | undefined;
}

const obj = (v: unknown): Config => {
  if (Array.isArray(v)) return obj(v[0]);
  return v && typeof v === "object" ? (v as Config) : {};
};
const list = (v: unknown): Config[] => (Array.isArray(v) ? v.map(obj) : v ? [obj(v)] : []);
const at = (config: Config, ...path: string[]): unknown =>
  path.reduce<unknown>((node, key) => (node === undefined ? undefined : obj(node)[key]), config);
const isSet = (v: unknown) => v !== undefined && v !== null && v !== "";

const SQL = ["google_sql_database_instance"];
const BUCKET = ["google_storage_bucket"];
const SUBNET = ["google_compute_subnetwork"];
const RUN = ["google_cloud_run_v2_service"];
const SUBSCRIPTION = ["google_pubsub_subscription"];
const isPush = (c: Config) => isSet(at(c, "push_config", "push_endpoint"));

function sqlFlag(config: Config, name: string): string | undefined {
  const flags = list(at(config, "settings", "database_flags"));
  const flag = flags.find((f) => f.name === name);
  return flag ? String(flag.value) : undefined;
}

function flagRule(id: string, flag: string): Rule {
  return {
    id,
    title: `Cloud SQL PostgreSQL flag ${flag} is on`,
    types: SQL,
    check: (c) =>
      sqlFlag(c, flag) === "on" ? undefined : `database flag ${flag} must be "on" (settings.database_flags)`,
  };
}

const IAM_SUFFIXES = ["_iam_member", "_iam_binding", "_iam_policy"];
const isIamType = (type: string) => IAM_SUFFIXES.some((s) => type.endsWith(s));
const BASIC_ROLES = new Set(["roles/owner", "roles/editor", "roles/viewer"]);

/** Members and roles of an IAM resource, including those inside a policy document's bindings. */
function grants(config: Config): { role: string; member: string }[] {
  const members = [
    ...(typeof config.member === "string" ? [config.member] : []),
    ...(Array.isArray(config.members) ? config.members.map(String) : []),
  ];
  const out = members.map((member) => ({ role: String(config.role ?? ""), member }));
  if (typeof config.policy_data === "string") {
    try {
      const policy = JSON.parse(config.policy_data) as { bindings?: { role: string; members: string[] }[] };
      for (const b of policy.bindings ?? []) for (const m of b.members) out.push({ role: b.role, member: m });
    } catch {
      // A policy built from references is checked by Google at apply; nothing literal to read here.
    }
  }
  if (out.length === 0 && typeof config.role === "string") out.push({ role: config.role, member: "" });
  return out;
}

const PUBLIC_MEMBERS = new Set(["allUsers", "allAuthenticatedUsers"]);
const SECRET_NAME = /(KEY|SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL|PRIVATE)/i;
/**
 * Settings whose names match SECRET_NAME but whose values say where secrets go, not what they are: the
 * tenant secret store's kind and its secret-id prefix. Exact names only; SECRET_STORE_KEY stays a secret.
 */
const NOT_SECRET_VALUES: ReadonlySet<string> = new Set(["SECRET_STORE", "SECRET_STORE_PREFIX"]);

/** Where each labelable type keeps its labels, and whether the provider's default_labels reach it. */
const LABEL_FIELDS: Readonly<Record<string, { path: string[]; providerDefaults: boolean }>> = {
  google_cloud_run_v2_service: { path: ["labels"], providerDefaults: true },
  google_storage_bucket: { path: ["labels"], providerDefaults: true },
  google_secret_manager_secret: { path: ["labels"], providerDefaults: true },
  google_artifact_registry_repository: { path: ["labels"], providerDefaults: true },
  google_compute_global_address: { path: ["labels"], providerDefaults: true },
  google_pubsub_topic: { path: ["labels"], providerDefaults: true },
  google_pubsub_subscription: { path: ["labels"], providerDefaults: true },
  google_sql_database_instance: { path: ["settings", "user_labels"], providerDefaults: false },
  google_monitoring_alert_policy: { path: ["user_labels"], providerDefaults: false },
  google_monitoring_uptime_check_config: { path: ["user_labels"], providerDefaults: false },
  google_monitoring_notification_channel: { path: ["user_labels"], providerDefaults: false },
};

export const RULES: readonly Rule[] = [
  // ---- Cloud SQL ----------------------------------------------------------------------------------
  {
    id: "CKV_GCP_6",
    title: "Cloud SQL requires TLS for every connection",
    types: SQL,
    check: (c) => {
      const mode = at(c, "settings", "ip_configuration", "ssl_mode");
      return mode === "ENCRYPTED_ONLY" || mode === "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"
        ? undefined
        : `settings.ip_configuration.ssl_mode is ${JSON.stringify(mode)}; set ENCRYPTED_ONLY`;
    },
  },
  {
    id: "CKV_GCP_60",
    title: "Cloud SQL has no public IP",
    types: SQL,
    check: (c) =>
      at(c, "settings", "ip_configuration", "ipv4_enabled") === false
        ? undefined
        : "settings.ip_configuration.ipv4_enabled must be false (private IP only)",
  },
  {
    id: "CKV_GCP_11",
    title: "Cloud SQL authorizes no 0.0.0.0/0 network",
    types: SQL,
    check: (c) => {
      const open = list(at(c, "settings", "ip_configuration", "authorized_networks")).find(
        (n) => n.value === "0.0.0.0/0" || n.value === "::/0",
      );
      return open ? `authorized network ${String(open.value)} opens the instance to the internet` : undefined;
    },
  },
  {
    id: "CKV_GCP_14",
    title: "Cloud SQL automated backups are on",
    types: SQL,
    check: (c) =>
      at(c, "settings", "backup_configuration", "enabled") === true
        ? undefined
        : "settings.backup_configuration.enabled must be true",
  },
  flagRule("CKV_GCP_51", "log_checkpoints"),
  flagRule("CKV_GCP_52", "log_connections"),
  flagRule("CKV_GCP_53", "log_disconnections"),
  flagRule("CKV_GCP_54", "log_lock_waits"),
  {
    id: "SB_SQL_PITR",
    title: "Cloud SQL point-in-time recovery is on",
    types: SQL,
    check: (c) =>
      at(c, "settings", "backup_configuration", "point_in_time_recovery_enabled") === true
        ? undefined
        : "settings.backup_configuration.point_in_time_recovery_enabled must be true",
  },
  {
    id: "SB_SQL_DELETION_PROTECTION",
    title: "Cloud SQL deletion protection (Terraform and GCP) outside dev",
    types: SQL,
    check: (c, ctx) => {
      if (!ctx.requireDataProtection) return undefined;
      const tf = c.deletion_protection !== false; // the provider defaults it to true
      const gcp = at(c, "settings", "deletion_protection_enabled") === true;
      return tf && gcp
        ? undefined
        : "deletion_protection and settings.deletion_protection_enabled must both be true in this environment";
    },
  },
  {
    id: "SB_SQL_IAM_AUTH",
    title: "Cloud SQL IAM database authentication is on",
    types: SQL,
    check: (c) =>
      sqlFlag(c, "cloudsql.iam_authentication") === "on"
        ? undefined
        : 'database flag cloudsql.iam_authentication must be "on" (no database passwords)',
  },
  {
    id: "SB_SQL_PRIVATE_NETWORK",
    title: "Cloud SQL is attached to the VPC",
    types: SQL,
    check: (c) =>
      isSet(at(c, "settings", "ip_configuration", "private_network"))
        ? undefined
        : "settings.ip_configuration.private_network must name the VPC",
  },
  // ---- IAM ----------------------------------------------------------------------------------------
  {
    id: "CKV_GCP_117",
    title: "No basic roles (owner, editor, viewer)",
    types: "*",
    check: (c, _ctx, type) => {
      if (!isIamType(type)) return undefined;
      const basic = grants(c).find((g) => BASIC_ROLES.has(g.role));
      return basic ? `grants basic role ${basic.role}; use predefined roles` : undefined;
    },
  },
  {
    id: "CKV_GCP_42",
    title: "No admin roles for service accounts at project level",
    types: ["google_project_iam_member", "google_project_iam_binding", "google_project_iam_policy"],
    check: (c) => {
      const g = grants(c).find(
        (x) => x.member.startsWith("serviceAccount:") && (/admin/i.test(x.role) || BASIC_ROLES.has(x.role)),
      );
      return g ? `grants ${g.role} to ${g.member} on the project` : undefined;
    },
  },
  {
    id: "CKV2_GCP_3",
    title: "No user-managed service account keys",
    types: ["google_service_account_key"],
    check: () => "service account keys are long-lived credentials; use Workload Identity Federation",
  },
  {
    id: "SB_PUBLIC_IAM",
    title: "No allUsers / allAuthenticatedUsers grants outside Cloud Run",
    types: "*",
    check: (c, _ctx, type) => {
      if (!isIamType(type) || type.startsWith("google_cloud_run_v2_service_iam")) return undefined;
      const g = grants(c).find((x) => PUBLIC_MEMBERS.has(x.member));
      return g ? `grants ${g.role} to ${g.member}` : undefined;
    },
  },
  {
    // Gmail's publisher may publish to the topic a watch names; anything wider lets every Gmail user's
    // watch (anyone can name any topic) publish elsewhere in the project.
    id: "SB_GMAIL_PUBLISHER",
    title: "Gmail's push identity is only a publisher on a topic",
    types: "*",
    check: (c, _ctx, type) => {
      if (!isIamType(type)) return undefined;
      const g = grants(c).find((x) => x.member === GMAIL_PUSH_PUBLISHER);
      if (!g) return undefined;
      return type === "google_pubsub_topic_iam_member" && g.role === "roles/pubsub.publisher"
        ? undefined
        : `grants ${g.role} to ${g.member} (${type}); give it roles/pubsub.publisher on the Gmail topic only (google_pubsub_topic_iam_member)`;
    },
  },
  // ---- Pub/Sub ------------------------------------------------------------------------------------
  {
    // Without a token the endpoint cannot tell Pub/Sub from anyone who knows the URL.
    id: "SB_PUBSUB_PUSH_OIDC",
    title: "Push subscriptions sign their requests with an OIDC token and a pinned audience",
    types: SUBSCRIPTION,
    check: (c) =>
      !isPush(c) ||
      (isSet(at(c, "push_config", "oidc_token", "service_account_email")) &&
        isSet(at(c, "push_config", "oidc_token", "audience")))
        ? undefined
        : "push_config.oidc_token needs service_account_email and audience (the value the endpoint verifies)",
  },
  {
    id: "SB_PUBSUB_PUSH_DEAD_LETTER",
    title: "Push subscriptions dead-letter what they cannot deliver",
    types: SUBSCRIPTION,
    check: (c) =>
      !isPush(c) || isSet(at(c, "dead_letter_policy", "dead_letter_topic"))
        ? undefined
        : "dead_letter_policy.dead_letter_topic must be set (with a subscription on it that keeps the messages)",
  },
  // ---- Storage ------------------------------------------------------------------------------------
  {
    id: "CKV_GCP_29",
    title: "Buckets use uniform bucket-level access",
    types: BUCKET,
    check: (c) =>
      c.uniform_bucket_level_access === true ? undefined : "uniform_bucket_level_access must be true",
  },
  {
    id: "CKV_GCP_114",
    title: "Buckets enforce public access prevention",
    types: BUCKET,
    check: (c) =>
      c.public_access_prevention === "enforced" ? undefined : 'public_access_prevention must be "enforced"',
  },
  {
    id: "CKV_GCP_78",
    title: "Buckets keep object versions",
    types: BUCKET,
    check: (c) => (at(c, "versioning", "enabled") === true ? undefined : "versioning.enabled must be true"),
  },
  {
    id: "SB_BUCKET_NONCURRENT_LIFECYCLE",
    title: "Versioned buckets expire old versions",
    types: BUCKET,
    check: (c) =>
      list(c.lifecycle_rule).some(
        (r) =>
          isSet(at(r, "condition", "num_newer_versions")) ||
          isSet(at(r, "condition", "days_since_noncurrent_time")),
      )
        ? undefined
        : "add a lifecycle_rule on noncurrent versions (num_newer_versions or days_since_noncurrent_time)",
  },
  // ---- Network ------------------------------------------------------------------------------------
  {
    id: "CKV_GCP_26",
    title: "Subnets have VPC flow logs",
    types: SUBNET,
    check: (c) => (isSet(c.log_config) ? undefined : "log_config must be set (VPC flow logs)"),
  },
  {
    id: "CKV_GCP_74",
    title: "Subnets have private Google access",
    types: SUBNET,
    check: (c) => (c.private_ip_google_access === true ? undefined : "private_ip_google_access must be true"),
  },
  // ---- Cloud Run ----------------------------------------------------------------------------------
  {
    id: "SB_RUN_INGRESS",
    title: "Cloud Run ingress is set explicitly",
    types: RUN,
    check: (c) => (isSet(c.ingress) ? undefined : "ingress must be set explicitly (INGRESS_TRAFFIC_*)"),
  },
  {
    // Either form makes a service public: the invoker IAM check turned off (what we use: it works under
    // Domain Restricted Sharing) or run.invoker for allUsers / allAuthenticatedUsers.
    id: "SB_RUN_PUBLIC_INVOKER",
    title: "Public Cloud Run invocation only with a written reason",
    types: [...RUN, "google_cloud_run_v2_service_iam_member", "google_cloud_run_v2_service_iam_binding"],
    check: (c, _ctx, type) => {
      if (RUN.includes(type)) {
        return c.invoker_iam_disabled === true
          ? "invoker_iam_disabled lets anyone invoke the service; exempt it with the reason it must be public"
          : undefined;
      }
      const g = grants(c).find((x) => PUBLIC_MEMBERS.has(x.member));
      return g
        ? `grants ${g.role} to ${g.member}; exempt it with the reason the service must be public`
        : undefined;
    },
  },
  {
    id: "SB_RUN_SERVICE_ACCOUNT",
    title: "Cloud Run runs as a dedicated service account",
    types: RUN,
    check: (c) =>
      isSet(at(c, "template", "service_account"))
        ? undefined
        : "template.service_account must be set (not the default compute service account)",
  },
  {
    id: "SB_RUN_PROBES",
    title: "Cloud Run containers have startup and liveness probes",
    types: RUN,
    check: (c) => {
      const missing = list(at(c, "template", "containers")).find(
        (k) => !isSet(k.startup_probe) || !isSet(k.liveness_probe),
      );
      return missing
        ? `container ${String(missing.name ?? "")} lacks a startup or liveness probe`
        : undefined;
    },
  },
  {
    id: "SB_RUN_SECRET_ENV",
    title: "Secret-looking Cloud Run env vars come from Secret Manager",
    types: RUN,
    check: (c) => {
      for (const k of list(at(c, "template", "containers"))) {
        // A Secret Manager reference the service resolves itself (sm://NAME) is a pointer, not a value.
        const bad = list(k.env).find(
          (e) =>
            SECRET_NAME.test(String(e.name)) &&
            !NOT_SECRET_VALUES.has(String(e.name)) &&
            isSet(e.value) &&
            !/^sm:\/\/[A-Za-z0-9_-]+(@\w+)?$/.test(String(e.value)),
        );
        if (bad)
          return `env ${String(bad.name)} has a plain value; use value_source.secret_key_ref or an sm:// reference`;
      }
      return undefined;
    },
  },
  // ---- Load balancing -----------------------------------------------------------------------------
  {
    id: "SB_LB_ARMOR",
    title: "Internet-facing backend services have a Cloud Armor policy",
    types: ["google_compute_backend_service"],
    check: (c) =>
      String(c.load_balancing_scheme ?? "EXTERNAL").startsWith("EXTERNAL") && !isSet(c.security_policy)
        ? "security_policy must attach a Cloud Armor policy to an external backend service"
        : undefined,
  },
  // ---- Secrets ------------------------------------------------------------------------------------
  {
    id: "SB_SECRET_INLINE_VALUE",
    title: "No secret values in Terraform",
    types: ["google_secret_manager_secret_version", "google_secret_manager_regional_secret_version"],
    check: (c) =>
      isSet(c.secret_data) || isSet(c.secret_data_wo)
        ? "secret_data would be stored in plan and state; add versions out of band (gcloud secrets versions add)"
        : undefined,
  },
  // ---- Identity federation, registry, APIs, labels -------------------------------------------------
  {
    id: "SB_WIF_CONDITION",
    title: "Workload identity providers restrict who may federate",
    types: ["google_iam_workload_identity_pool_provider"],
    check: (c) =>
      isSet(c.attribute_condition)
        ? undefined
        : "attribute_condition must restrict the provider (e.g. to one repository)",
  },
  {
    id: "SB_AR_CLEANUP",
    title: "Artifact Registry repositories have cleanup policies",
    types: ["google_artifact_registry_repository"],
    check: (c) =>
      list(c.cleanup_policies).length > 0 && c.cleanup_policy_dry_run !== true
        ? undefined
        : "cleanup_policies must be set and cleanup_policy_dry_run false",
  },
  {
    id: "SB_API_KEEP_ON_DESTROY",
    title: "Destroying a stack never disables project APIs",
    types: ["google_project_service"],
    check: (c) =>
      c.disable_on_destroy === false
        ? undefined
        : "disable_on_destroy must be false (disabling an API breaks everything else that uses it)",
  },
  {
    id: "SB_LABELS",
    title: "Labelable resources carry the required labels",
    types: Object.keys(LABEL_FIELDS),
    check: (c, ctx, type) => {
      const where = LABEL_FIELDS[type];
      if (!where) return undefined;
      const own = obj(at(c, ...where.path));
      const effective = where.providerDefaults ? { ...ctx.providerDefaultLabels, ...own } : own;
      const missing = ctx.requiredLabels.filter((l) => !isSet(effective[l]));
      return missing.length ? `missing labels ${missing.join(", ")} (${where.path.join(".")})` : undefined;
    },
  },
];

export const RULE_IDS: ReadonlySet<string> = new Set(RULES.map((r) => r.id));
