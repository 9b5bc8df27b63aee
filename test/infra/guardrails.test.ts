import { ArtifactRegistryRepository } from "@cdktf/provider-google/lib/artifact-registry-repository";
import { CloudRunV2Service } from "@cdktf/provider-google/lib/cloud-run-v2-service";
import { CloudRunV2ServiceIamMember } from "@cdktf/provider-google/lib/cloud-run-v2-service-iam-member";
import { ComputeBackendService } from "@cdktf/provider-google/lib/compute-backend-service";
import { ComputeSubnetwork } from "@cdktf/provider-google/lib/compute-subnetwork";
import { IamWorkloadIdentityPoolProvider } from "@cdktf/provider-google/lib/iam-workload-identity-pool-provider";
import { ProjectIamMember } from "@cdktf/provider-google/lib/project-iam-member";
import { ProjectService } from "@cdktf/provider-google/lib/project-service";
import { GoogleProvider } from "@cdktf/provider-google/lib/provider";
import { PubsubSubscription } from "@cdktf/provider-google/lib/pubsub-subscription";
import { PubsubTopicIamMember } from "@cdktf/provider-google/lib/pubsub-topic-iam-member";
import { SecretManagerSecret } from "@cdktf/provider-google/lib/secret-manager-secret";
import { SecretManagerSecretVersion } from "@cdktf/provider-google/lib/secret-manager-secret-version";
import { ServiceAccountKey } from "@cdktf/provider-google/lib/service-account-key";
import { SqlDatabaseInstance } from "@cdktf/provider-google/lib/sql-database-instance";
import { StorageBucket } from "@cdktf/provider-google/lib/storage-bucket";
import { StorageBucketIamMember } from "@cdktf/provider-google/lib/storage-bucket-iam-member";
import { TerraformStack, Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import { buildApp } from "../../infra/app";
import { applyGuardrails, evaluateGuardrails, exempt } from "../../infra/guardrails/guardrails";
import { RULE_IDS } from "../../infra/guardrails/rules";
import { exampleSite } from "../../infra/site";

const LABELS = { app: "switchboard", env: "test", managed_by: "cdktf" };

function stackWith(build: (stack: TerraformStack) => void, defaultLabels: Record<string, string> = LABELS) {
  const stack = new TerraformStack(Testing.app(), "bad");
  new GoogleProvider(stack, "google", { project: "p-000000", region: "europe-west1", defaultLabels });
  build(stack);
  return stack;
}

/** A compliant Cloud SQL instance; each SQL fixture breaks one thing of it. */
function sql(
  stack: TerraformStack,
  settings: Record<string, unknown> = {},
  top: Record<string, unknown> = {},
) {
  const flags = [
    "cloudsql.iam_authentication",
    "log_checkpoints",
    "log_connections",
    "log_disconnections",
    "log_lock_waits",
  ];
  return new SqlDatabaseInstance(stack, "sql", {
    databaseVersion: "POSTGRES_15",
    deletionProtection: true,
    ...top,
    settings: {
      tier: "db-custom-1-3840",
      userLabels: LABELS,
      deletionProtectionEnabled: true,
      ipConfiguration: { ipv4Enabled: false, privateNetwork: "vpc", sslMode: "ENCRYPTED_ONLY" },
      backupConfiguration: { enabled: true, pointInTimeRecoveryEnabled: true },
      databaseFlags: flags.map((name) => ({ name, value: "on" })),
      ...settings,
    },
  });
}
const flagsWithout = (off: string) =>
  [
    "cloudsql.iam_authentication",
    "log_checkpoints",
    "log_connections",
    "log_disconnections",
    "log_lock_waits",
  ].map((name) => ({ name, value: name === off ? "off" : "on" }));
const ip = { ipv4Enabled: false, privateNetwork: "vpc", sslMode: "ENCRYPTED_ONLY" };
function bucket(stack: TerraformStack, overrides: Record<string, unknown> = {}) {
  return new StorageBucket(stack, "bucket", {
    name: "b",
    location: "EU",
    uniformBucketLevelAccess: true,
    publicAccessPrevention: "enforced",
    versioning: { enabled: true },
    lifecycleRule: [{ action: { type: "Delete" }, condition: { numNewerVersions: 5 } }],
    ...overrides,
  });
}
function subnet(stack: TerraformStack, overrides: Record<string, unknown> = {}) {
  return new ComputeSubnetwork(stack, "subnet", {
    name: "s",
    network: "n",
    ipCidrRange: "10.0.0.0/28",
    privateIpGoogleAccess: true,
    logConfig: { aggregationInterval: "INTERVAL_5_SEC" },
    ...overrides,
  });
}
const probe = { httpGet: { path: "/healthz" } };
function run(
  stack: TerraformStack,
  overrides: Record<string, unknown> = {},
  container: Record<string, unknown> = {},
) {
  return new CloudRunV2Service(stack, "run", {
    name: "s",
    location: "europe-west1",
    ingress: "INGRESS_TRAFFIC_ALL",
    ...overrides,
    template: {
      serviceAccount: "sa@p.iam.gserviceaccount.com",
      containers: [{ image: "i", name: "c", startupProbe: probe, livenessProbe: probe, ...container }],
    },
  });
}

/** A compliant push subscription (OIDC token, dead letters); each Pub/Sub fixture breaks one thing of it. */
function pushSubscription(stack: TerraformStack, overrides: Record<string, unknown> = {}) {
  return new PubsubSubscription(stack, "push", {
    name: "s",
    topic: "projects/p/topics/t",
    pushConfig: {
      pushEndpoint: "https://chat.example.com/webhooks/email/gmail-push",
      oidcToken: {
        serviceAccountEmail: "push@p.iam.gserviceaccount.com",
        audience: "https://chat.example.com/webhooks/email/gmail-push",
      },
    },
    deadLetterPolicy: { deadLetterTopic: "projects/p/topics/dead", maxDeliveryAttempts: 10 },
    ...overrides,
  });
}
const GMAIL = "serviceAccount:gmail-api-push@system.gserviceaccount.com";

const publicBucketGrant = (stack: TerraformStack) =>
  new StorageBucketIamMember(stack, "public", {
    bucket: "b",
    role: "roles/storage.objectViewer",
    member: "allUsers",
  });

/** One deliberately bad construct per rule. */
const BAD: Record<string, (stack: TerraformStack) => void> = {
  CKV_GCP_6: (s) => sql(s, { ipConfiguration: { ...ip, sslMode: "ALLOW_UNENCRYPTED_AND_ENCRYPTED" } }),
  CKV_GCP_60: (s) => sql(s, { ipConfiguration: { ...ip, ipv4Enabled: true } }),
  CKV_GCP_11: (s) =>
    sql(s, { ipConfiguration: { ...ip, ipv4Enabled: false, authorizedNetworks: [{ value: "0.0.0.0/0" }] } }),
  CKV_GCP_14: (s) => sql(s, { backupConfiguration: { enabled: false, pointInTimeRecoveryEnabled: true } }),
  CKV_GCP_51: (s) => sql(s, { databaseFlags: flagsWithout("log_checkpoints") }),
  CKV_GCP_52: (s) => sql(s, { databaseFlags: flagsWithout("log_connections") }),
  CKV_GCP_53: (s) => sql(s, { databaseFlags: flagsWithout("log_disconnections") }),
  CKV_GCP_54: (s) => sql(s, { databaseFlags: flagsWithout("log_lock_waits") }),
  SB_SQL_PITR: (s) => sql(s, { backupConfiguration: { enabled: true, pointInTimeRecoveryEnabled: false } }),
  SB_SQL_DELETION_PROTECTION: (s) =>
    sql(s, { deletionProtectionEnabled: false }, { deletionProtection: false }),
  SB_SQL_IAM_AUTH: (s) => sql(s, { databaseFlags: flagsWithout("cloudsql.iam_authentication") }),
  SB_SQL_PRIVATE_NETWORK: (s) =>
    sql(s, { ipConfiguration: { ipv4Enabled: false, sslMode: "ENCRYPTED_ONLY" } }),
  CKV_GCP_117: (s) =>
    new ProjectIamMember(s, "owner", { project: "p", role: "roles/editor", member: "user:a@b.c" }),
  CKV_GCP_42: (s) =>
    new ProjectIamMember(s, "admin", {
      project: "p",
      role: "roles/iam.serviceAccountAdmin",
      member: "serviceAccount:x@p.iam.gserviceaccount.com",
    }),
  CKV2_GCP_3: (s) => new ServiceAccountKey(s, "key", { serviceAccountId: "x@p.iam.gserviceaccount.com" }),
  SB_PUBLIC_IAM: publicBucketGrant,
  CKV_GCP_29: (s) => bucket(s, { uniformBucketLevelAccess: false }),
  CKV_GCP_114: (s) => bucket(s, { publicAccessPrevention: "inherited" }),
  CKV_GCP_78: (s) => bucket(s, { versioning: { enabled: false } }),
  SB_BUCKET_NONCURRENT_LIFECYCLE: (s) => bucket(s, { lifecycleRule: [] }),
  CKV_GCP_26: (s) => subnet(s, { logConfig: undefined }),
  CKV_GCP_74: (s) => subnet(s, { privateIpGoogleAccess: false }),
  SB_RUN_INGRESS: (s) => run(s, { ingress: undefined }),
  SB_RUN_PUBLIC_INVOKER: (s) =>
    new CloudRunV2ServiceIamMember(s, "public", { name: "s", role: "roles/run.invoker", member: "allUsers" }),
  SB_RUN_SERVICE_ACCOUNT: (s) =>
    new CloudRunV2Service(s, "run", {
      name: "s",
      location: "europe-west1",
      ingress: "INGRESS_TRAFFIC_ALL",
      template: { containers: [{ image: "i", startupProbe: probe, livenessProbe: probe }] },
    }),
  SB_RUN_PROBES: (s) => run(s, {}, { livenessProbe: undefined }),
  SB_RUN_SECRET_ENV: (s) => run(s, {}, { env: [{ name: "INTERCOM_ACCESS_TOKEN", value: "tok_live_123" }] }),
  SB_LB_ARMOR: (s) =>
    new ComputeBackendService(s, "backend", { name: "b", loadBalancingScheme: "EXTERNAL_MANAGED" }),
  SB_GMAIL_PUBLISHER: (s) =>
    new PubsubTopicIamMember(s, "gmail-editor", { topic: "t", role: "roles/pubsub.editor", member: GMAIL }),
  SB_PUBSUB_PUSH_OIDC: (s) =>
    pushSubscription(s, {
      pushConfig: { pushEndpoint: "https://chat.example.com/webhooks/email/gmail-push" },
    }),
  SB_PUBSUB_PUSH_DEAD_LETTER: (s) => pushSubscription(s, { deadLetterPolicy: undefined }),
  SB_SECRET_INLINE_VALUE: (s) =>
    new SecretManagerSecretVersion(s, "v", { secret: "x", secretData: "hunter2" }),
  SB_WIF_CONDITION: (s) =>
    new IamWorkloadIdentityPoolProvider(s, "provider", {
      workloadIdentityPoolId: "github",
      workloadIdentityPoolProviderId: "gh",
      oidc: { issuerUri: "https://token.actions.githubusercontent.com" },
    }),
  SB_AR_CLEANUP: (s) => new ArtifactRegistryRepository(s, "repo", { repositoryId: "r", format: "DOCKER" }),
  SB_API_KEEP_ON_DESTROY: (s) => new ProjectService(s, "api", { service: "run.googleapis.com" }),
  SB_LABELS: (s) =>
    new SecretManagerSecret(s, "secret", { secretId: "x", replication: { auto: {} }, labels: { app: "x" } }),
};

describe("guardrails", () => {
  it("has at least 20 rules and a bad fixture for every one", () => {
    expect(RULE_IDS.size).toBeGreaterThanOrEqual(20);
    expect(Object.keys(BAD).sort()).toEqual([...RULE_IDS].sort());
  });

  it.each(Object.entries(BAD))("%s fires on a deliberately bad construct", (ruleId, build) => {
    // SB_LABELS: a provider without default labels, so the resource's own labels are all there is.
    const stack = stackWith(build, ruleId === "SB_LABELS" ? {} : LABELS);
    const fired = evaluateGuardrails(stack).map((f) => f.ruleId);
    expect(fired).toContain(ruleId);
  });

  it("SB_RUN_PUBLIC_INVOKER also fires on a service with the invoker IAM check turned off", () => {
    const stack = stackWith((s) => run(s, { invokerIamDisabled: true }));
    const findings = evaluateGuardrails(stack);
    expect(findings.map((f) => `${f.ruleId} ${f.path}`)).toEqual(["SB_RUN_PUBLIC_INVOKER bad/run"]);
    expect(findings[0]?.message).toMatch(/invoker_iam_disabled/);
  });

  it("SB_GMAIL_PUBLISHER fires on Gmail's identity granted at project level, and a token without an audience fails SB_PUBSUB_PUSH_OIDC", () => {
    const stack = stackWith((s) => {
      new ProjectIamMember(s, "gmail-project", {
        project: "p",
        role: "roles/pubsub.publisher",
        member: GMAIL,
      });
      pushSubscription(s, {
        pushConfig: {
          pushEndpoint: "https://chat.example.com/webhooks/email/gmail-push",
          oidcToken: { serviceAccountEmail: "push@p.iam.gserviceaccount.com" },
        },
      });
    });
    expect(evaluateGuardrails(stack).map((f) => `${f.ruleId} ${f.path}`)).toEqual([
      "SB_GMAIL_PUBLISHER bad/gmail-project",
      "SB_PUBSUB_PUSH_OIDC bad/push",
    ]);
  });

  it("does not fire on compliant fixtures", () => {
    const stack = stackWith((s) => {
      sql(s);
      bucket(s);
      subnet(s);
      run(s);
      pushSubscription(s);
      new PubsubTopicIamMember(s, "gmail", { topic: "t", role: "roles/pubsub.publisher", member: GMAIL });
      // A pull subscription has nobody to authenticate to and nothing to dead-letter.
      new PubsubSubscription(s, "pull", { name: "p", topic: "projects/p/topics/dead" });
    });
    expect(evaluateGuardrails(stack)).toEqual([]);
  });

  it("passes on every real stack, with only written-down exemptions", () => {
    const { bootstrap, platforms } = buildApp({ site: exampleSite(), outdir: Testing.app().outdir });
    for (const stack of [bootstrap, platforms.dev, platforms.staging, platforms.prod]) {
      const findings = evaluateGuardrails(stack, { requireDataProtection: stack !== platforms.dev });
      expect(findings.filter((f) => !f.exemptedBecause)).toEqual([]);
    }
    const exempted = evaluateGuardrails(platforms.prod).filter((f) => f.exemptedBecause);
    expect(exempted.map((f) => `${f.ruleId} ${f.path}`)).toEqual([
      // The runtime creates tenant secrets: admin, conditioned to the project resource (TenantSecrets).
      "CKV_GCP_42 prod/tenant-secrets/create",
      "SB_RUN_PUBLIC_INVOKER prod/run/service",
    ]);
    const bootstrapExempted = evaluateGuardrails(bootstrap).filter((f) => f.exemptedBecause);
    expect(new Set(bootstrapExempted.map((f) => f.ruleId))).toEqual(new Set(["CKV_GCP_42"]));
  });

  it("fails synth naming the rule, the resource address and the construct path", () => {
    const stack = stackWith(BAD.CKV_GCP_60 as (s: TerraformStack) => void);
    applyGuardrails(stack);
    expect(() => Testing.synth(stack, true)).toThrow(
      /guardrail CKV_GCP_60 google_sql_database_instance\.sql \(bad\/sql\): settings\.ip_configuration\.ipv4_enabled must be false/,
    );
  });

  it("lets one resource be exempted from one rule with a reason, recorded in the synthesized JSON", () => {
    const stack = stackWith((s) => {
      exempt(publicBucketGrant(s), "SB_PUBLIC_IAM", "Public website assets bucket, reviewed in ADR-7");
    });
    applyGuardrails(stack);
    const json = JSON.parse(Testing.synth(stack, true)) as Record<
      string,
      Record<string, Record<string, unknown>>
    >;
    expect(json.resource?.google_storage_bucket_iam_member?.public).toBeDefined();
    const raw = stack.toTerraform() as { resource: Record<string, Record<string, { "//": unknown }>> };
    expect(raw.resource.google_storage_bucket_iam_member?.public?.["//"]).toMatchObject({
      guardrail_exemptions: { SB_PUBLIC_IAM: "Public website assets bucket, reviewed in ADR-7" },
    });
  });

  it("rejects unknown rule ids and empty reasons, and fails synth on a stale exemption", () => {
    const stack = stackWith(() => undefined);
    const grant = new StorageBucketIamMember(stack, "private", {
      bucket: "b",
      role: "roles/storage.objectViewer",
      member: "group:team@example.com",
    });
    expect(() => exempt(grant, "CKV_NOPE", "a long enough reason for the test")).toThrow(
      /unknown guardrail rule/,
    );
    expect(() => exempt(grant, "SB_PUBLIC_IAM", "because")).toThrow(/reason of at least/);
    exempt(grant, "SB_PUBLIC_IAM", "was public once, no longer is, exemption left behind");
    applyGuardrails(stack);
    expect(() => Testing.synth(stack, true)).toThrow(/stale exemption/);
  });

  it("takes the secret store's kind and prefix as plain settings, and still its key only from Secret Manager", () => {
    const settings = [
      { name: "SECRET_STORE", value: "secret-manager" },
      { name: "SECRET_STORE_PREFIX", value: "switchboard-tenant-" },
    ];
    expect(evaluateGuardrails(stackWith((s) => run(s, {}, { env: settings })))).toEqual([]);
    const keyed = stackWith((s) =>
      run(
        s,
        {},
        {
          env: [
            ...settings,
            { name: "SECRET_STORE_KEY", value: "c2VjcmV0LWtleS0zMi1ieXRlcy0wMTIzNDU2Nzg5YWI=" },
          ],
        },
      ),
    );
    expect(evaluateGuardrails(keyed).map((f) => f.message)).toEqual([
      "env SECRET_STORE_KEY has a plain value; use value_source.secret_key_ref or an sm:// reference",
    ]);
  });
});
