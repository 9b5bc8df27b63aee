import { Testing } from "cdktf";
import type { Construct } from "constructs";
import { describe, expect, it } from "vitest";
import { ArmorPolicy } from "../../infra/constructs/armor-policy";
import { ArtifactRegistry } from "../../infra/constructs/artifact-registry";
import { Budget } from "../../infra/constructs/budget";
import { CiIdentities, DEPLOY_ROLES, PLAN_ROLES } from "../../infra/constructs/ci-identities";
import { Database } from "../../infra/constructs/database";
import { Edge } from "../../infra/constructs/edge";
import { GithubOidc } from "../../infra/constructs/github-oidc";
import { Identity } from "../../infra/constructs/identity";
import { LogMetrics } from "../../infra/constructs/log-metrics";
import { Network } from "../../infra/constructs/network";
import { NotificationChannels } from "../../infra/constructs/notification-channels";
import { PollSchedule } from "../../infra/constructs/poll-schedule";
import { ProjectServices } from "../../infra/constructs/project-services";
import { RunService } from "../../infra/constructs/run-service";
import { Secrets } from "../../infra/constructs/secrets";
import { ServiceEnvironment } from "../../infra/constructs/service-environment";
import { StateBucket } from "../../infra/constructs/state-bucket";
import { TaskQueue } from "../../infra/constructs/task-queue";
import { UptimeCheck } from "../../infra/constructs/uptime-check";
import { environments, secretsFor } from "../../infra/environments";
import { LOG_METRICS } from "../../infra/monitoring/log-metrics";
import { only, parse, resources } from "./helpers";

const P = "switchboard-test-000000";
const LABELS = { app: "switchboard", env: "test", managed_by: "cdktf" };
const synth = (fn: (scope: Construct) => void) => parse(Testing.synthScope(fn));
type Json = Record<string, unknown>;
const sorted = (xs: readonly unknown[]) => xs.map(String).sort();

describe("ProjectServices", () => {
  it("enables each API once and never disables it on destroy", () => {
    const out = synth((s) => {
      new ProjectServices(s, "apis", {
        projectId: P,
        apis: ["run.googleapis.com", "run.googleapis.com", "sqladmin.googleapis.com"],
      });
    });
    const services = resources(out, "google_project_service");
    expect(services.map((x) => x.service)).toEqual(["run.googleapis.com", "sqladmin.googleapis.com"]);
    for (const x of services) expect(x.disable_on_destroy).toBe(false);
  });
});

describe("Network", () => {
  const out = synth((s) => {
    new Network(s, "network", {
      projectId: P,
      region: "europe-west1",
      network: environments.prod.network,
      connector: environments.prod.connector,
      labels: LABELS,
    });
  });
  it("is a custom-mode VPC with a flow-logged, private-Google-access subnet for the connector", () => {
    expect(only(out, "google_compute_network").auto_create_subnetworks).toBe(false);
    const subnet = only(out, "google_compute_subnetwork");
    expect(subnet.ip_cidr_range).toBe("10.8.0.0/28");
    expect(subnet.private_ip_google_access).toBe(true);
    expect(subnet.log_config).toMatchObject({ flow_sampling: 0.5 });
  });
  it("reserves a private services range and peers it, abandoning the peering on destroy", () => {
    expect(only(out, "google_compute_global_address")).toMatchObject({
      purpose: "VPC_PEERING",
      prefix_length: 20,
    });
    expect(only(out, "google_service_networking_connection")).toMatchObject({
      service: "servicenetworking.googleapis.com",
      deletion_policy: "ABANDON",
    });
  });
  it("sizes the connector from the environment data", () => {
    expect(only(out, "google_vpc_access_connector")).toMatchObject({
      machine_type: "e2-micro",
      min_instances: 2,
      max_instances: 10,
      subnet: { name: expect.stringContaining("google_compute_subnetwork") },
    });
  });
});

describe("Network with Direct VPC egress", () => {
  const make = (directEgressCidr: string) =>
    synth((s) => {
      new Network(s, "network", {
        projectId: P,
        region: "europe-west1",
        network: { ...environments.prod.network, egress: "direct", directEgressCidr },
        connector: environments.prod.connector,
        labels: LABELS,
      });
    });
  it("creates no connector, and a flow-logged subnet with private Google access for the instances", () => {
    const out = make("10.8.16.0/24");
    expect(resources(out, "google_vpc_access_connector")).toEqual([]);
    expect(only(out, "google_compute_subnetwork")).toMatchObject({
      name: "switchboard-run",
      ip_cidr_range: "10.8.16.0/24",
      private_ip_google_access: true,
      log_config: { flow_sampling: 0.5 },
    });
    // Google picks the private services range after the subnet exists, so the two cannot overlap.
    expect(only(out, "google_compute_global_address").depends_on).toEqual([
      expect.stringMatching(/^google_compute_subnetwork\./),
    ]);
  });
  it("refuses a subnet smaller than the /26 Google asks for", () => {
    expect(() => make("10.8.16.0/27")).toThrow(/too small: use a \/26 or larger/);
  });
});

describe("Database", () => {
  const make = (deletionProtection: boolean) =>
    synth((s) => {
      const network = new Network(s, "network", {
        projectId: P,
        region: "europe-west1",
        network: environments.prod.network,
        connector: environments.prod.connector,
        labels: LABELS,
      });
      new Database(s, "database", {
        projectId: P,
        region: "europe-west1",
        spec: environments.prod.database,
        deletionProtection,
        network,
        iamServiceAccountUser: `switchboard-run@${P}.iam`,
        labels: LABELS,
      });
    });
  const out = make(true);
  const instance = only(out, "google_sql_database_instance") as Json & { settings: Json };
  it("is PostgreSQL 15 on private IP only, TLS required, after the peering exists", () => {
    expect(instance.database_version).toBe("POSTGRES_15");
    expect(instance.settings.ip_configuration).toMatchObject({
      ipv4_enabled: false,
      ssl_mode: "ENCRYPTED_ONLY",
    });
    expect(instance.depends_on).toEqual([expect.stringMatching(/^google_service_networking_connection\./)]);
  });
  it("backs up daily with PITR, retention and HA from the data, and has a maintenance window", () => {
    expect(instance.settings).toMatchObject({
      tier: "db-custom-2-4096",
      availability_type: "REGIONAL",
      disk_type: "PD_SSD",
      disk_size: 20,
      disk_autoresize: true,
      backup_configuration: {
        enabled: true,
        point_in_time_recovery_enabled: true,
        transaction_log_retention_days: 7,
        backup_retention_settings: { retained_backups: 7, retention_unit: "COUNT" },
      },
      maintenance_window: { day: 7, hour: 3 },
      insights_config: { query_insights_enabled: true },
    });
  });
  it("turns on IAM authentication and the logging flags", () => {
    const flags = Object.fromEntries(
      (instance.settings.database_flags as { name: string; value: string }[]).map((f) => [f.name, f.value]),
    );
    expect(flags).toMatchObject({
      "cloudsql.iam_authentication": "on",
      log_checkpoints: "on",
      log_connections: "on",
      log_disconnections: "on",
      log_lock_waits: "on",
      max_connections: "200",
    });
  });
  it("protects the instance in Terraform and GCP when asked, not otherwise", () => {
    expect(instance.deletion_protection).toBe(true);
    expect(instance.settings.deletion_protection_enabled).toBe(true);
    const dev = only(make(false), "google_sql_database_instance") as Json & { settings: Json };
    expect(dev.deletion_protection).toBe(false);
    expect(dev.settings.deletion_protection_enabled).toBe(false);
  });
  it("creates the application database and the runtime's IAM user, with no password anywhere", () => {
    expect(only(out, "google_sql_database").name).toBe("switchboard");
    const user = only(out, "google_sql_user");
    expect(user).toMatchObject({ type: "CLOUD_IAM_SERVICE_ACCOUNT", name: `switchboard-run@${P}.iam` });
    expect(user.password).toBeUndefined();
    expect(JSON.stringify(out)).not.toMatch(/root_password|"password"/);
  });
});

describe("Identity", () => {
  const out = synth((s) => {
    new Identity(s, "identity", { projectId: P, extraRuntimeRoles: ["roles/aiplatform.user"] });
  });
  it("creates a runtime and an invoker identity, no keys", () => {
    expect(sorted(resources(out, "google_service_account").map((a) => a.account_id))).toEqual([
      "switchboard-invoker",
      "switchboard-run",
    ]);
    expect(resources(out, "google_service_account_key")).toEqual([]);
  });
  it("grants the runtime only what the service uses", () => {
    expect(sorted(resources(out, "google_project_iam_member").map((m) => m.role))).toEqual(
      sorted([...Identity.RUNTIME_ROLES, "roles/aiplatform.user"]),
    );
  });
  it("lets the runtime mint tasks that carry the invoker's OIDC token", () => {
    expect(only(out, "google_service_account_iam_member")).toMatchObject({
      role: "roles/iam.serviceAccountUser",
      member: expect.stringContaining("google_service_account.identity_runtime"),
    });
  });
});

describe("Secrets", () => {
  const specs = secretsFor(environments.prod);
  const out = synth((s) => {
    new Secrets(s, "secrets", {
      projectId: P,
      secrets: specs,
      accessor: { email: "run@x" },
      labels: LABELS,
    });
  });
  it("creates one secret per credential with no version and no value", () => {
    expect(sorted(resources(out, "google_secret_manager_secret").map((x) => x.secret_id))).toEqual(
      sorted(specs.map((x) => x.id)),
    );
    expect(resources(out, "google_secret_manager_secret_version")).toEqual([]);
  });
  it("grants accessor on each secret to the runtime only", () => {
    const grants = resources(out, "google_secret_manager_secret_iam_member");
    expect(grants).toHaveLength(specs.length);
    for (const g of grants)
      expect(g).toMatchObject({ role: "roles/secretmanager.secretAccessor", member: "serviceAccount:run@x" });
  });
});

describe("ArtifactRegistry", () => {
  it("is a Docker repository with immutable tags and active cleanup policies", () => {
    const out = synth((s) => {
      new ArtifactRegistry(s, "registry", {
        projectId: P,
        region: "europe-west1",
        keepCount: 30,
        labels: LABELS,
      });
    });
    expect(only(out, "google_artifact_registry_repository")).toMatchObject({
      format: "DOCKER",
      docker_config: { immutable_tags: true },
      cleanup_policy_dry_run: false,
      cleanup_policies: [
        { id: "delete-untagged", action: "DELETE", condition: { tag_state: "UNTAGGED" } },
        { id: "keep-recent", action: "KEEP", most_recent_versions: { keep_count: 30 } },
      ],
    });
  });
});

describe("RunService", () => {
  const make = (publicAccessReason?: string) =>
    synth((s) => {
      new RunService(s, "run", {
        projectId: P,
        region: "europe-west1",
        image: "us-docker.pkg.dev/cloudrun/container/hello",
        serviceAccount: { email: "run@x" },
        spec: environments.prod.run,
        deletionProtection: true,
        network: { vpc: { id: "vpc" }, subnet: { id: "subnet" }, connector: { id: "connector" } },
        environment: { env: { NODE_ENV: "production" }, secretEnv: { JWT_SECRET: "jwt-secret" } },
        invoker: { email: "invoker@x" },
        ...(publicAccessReason ? { publicAccessReason } : {}),
        labels: LABELS,
      });
    });
  const out = make("browsers and Intercom webhooks must reach it");
  const service = only(out, "google_cloud_run_v2_service") as Json & {
    template: Json & { containers: Json[] };
  };
  const container = service.template.containers[0] as Json;
  it("runs as the runtime identity with the environment's size, scaling, concurrency and timeout", () => {
    expect(service.template).toMatchObject({
      service_account: "run@x",
      max_instance_request_concurrency: 80,
      timeout: "300s",
      scaling: { min_instance_count: 1, max_instance_count: 20 },
      vpc_access: { connector: "connector", egress: "PRIVATE_RANGES_ONLY" },
    });
    expect(container.resources).toMatchObject({
      limits: { cpu: "2", memory: "4Gi" },
      startup_cpu_boost: true,
    });
  });
  it("can use Direct VPC egress, with a longer startup probe for its slower first connection", () => {
    const out = synth((s) => {
      new RunService(s, "run", {
        projectId: P,
        region: "europe-west1",
        image: "i",
        serviceAccount: { email: "run@x" },
        spec: environments.dev.run,
        deletionProtection: false,
        network: { vpc: { id: "vpc" }, subnet: { id: "subnet" } },
        environment: { env: {}, secretEnv: {} },
        labels: LABELS,
      });
    });
    const template = (
      only(out, "google_cloud_run_v2_service") as Json & { template: Json & { containers: Json[] } }
    ).template;
    expect(template.vpc_access).toEqual({
      network_interfaces: [{ network: "vpc", subnetwork: "subnet" }],
      egress: "PRIVATE_RANGES_ONLY",
    });
    expect(template.containers[0]?.startup_probe).toMatchObject({ period_seconds: 3, failure_threshold: 40 });
    expect(container.startup_probe).toMatchObject({ failure_threshold: 20 });
  });

  it("probes startup on the readiness path and liveness on /healthz", () => {
    expect(container.startup_probe).toMatchObject({ http_get: { path: "/api/v1/health", port: 8080 } });
    expect(container.liveness_probe).toMatchObject({ http_get: { path: "/healthz", port: 8080 } });
  });
  it("reads secrets from Secret Manager at latest and plain values as values", () => {
    expect(container.env).toEqual([
      { name: "JWT_SECRET", value_source: { secret_key_ref: { secret: "jwt-secret", version: "latest" } } },
      { name: "NODE_ENV", value: "production" },
    ]);
  });
  it("has explicit ingress and leaves the image to CI after the first deploy", () => {
    expect(service.ingress).toBe("INGRESS_TRAFFIC_ALL");
    const ignored = (service.lifecycle as { ignore_changes: string[] }).ignore_changes;
    expect(ignored).toEqual(
      expect.arrayContaining(["template[0].containers[0].image", "client", "client_version"]),
    );
  });
  it("ignores what gcloud run deploy stamps on the revision template, so an apply makes no untested revision", () => {
    const ignored = (service.lifecycle as { ignore_changes: string[] }).ignore_changes;
    expect(ignored).toEqual(
      expect.arrayContaining([
        'template[0].annotations["client.knative.dev/user-image"]',
        'template[0].annotations["run.googleapis.com/client-name"]',
        'template[0].annotations["run.googleapis.com/client-version"]',
        'template[0].labels["client.knative.dev/nonce"]',
      ]),
    );
    // Nothing broader: Terraform still manages every other annotation and label of the template.
    expect(ignored.filter((p) => /^template\[0\]\.(annotations|labels)$/.test(p))).toEqual([]);
  });
  it("grants run.invoker to the invoker identity, and opens to the public only with a reason", () => {
    // Public by turning the invoker IAM check off, never by an allUsers binding: Domain Restricted
    // Sharing refuses allUsers (issue 10, infra item 7).
    const members = resources(out, "google_cloud_run_v2_service_iam_member").map((m) => m.member);
    expect(members).toEqual(["serviceAccount:invoker@x"]);
    expect(service.invoker_iam_disabled).toBe(true);
    expect(JSON.stringify(out)).not.toContain("allUsers");
    const privateOut = make();
    const privateService = only(privateOut, "google_cloud_run_v2_service");
    expect(privateService.invoker_iam_disabled).toBeUndefined();
    expect(privateService.ingress).toBe("INGRESS_TRAFFIC_INTERNAL_ONLY");
    expect(resources(privateOut, "google_cloud_run_v2_service_iam_member").map((m) => m.member)).toEqual([
      "serviceAccount:invoker@x",
    ]);
  });
});

describe("ArmorPolicy and Edge", () => {
  const armor = environments.prod.edge.armor;
  it("skips signed webhooks in every rule but the default, and refuses an interval Cloud Armor does not take", () => {
    const out = synth((s) => {
      new ArmorPolicy(s, "armor", { projectId: P, spec: armor });
    });
    const rules = only(out, "google_compute_security_policy").rule as { priority: number; match: Json }[];
    expect(rules).toHaveLength(armor.wafRules.length + 2);
    for (const r of rules.slice(0, -1))
      expect(JSON.stringify(r.match)).toContain("!request.path.startsWith('/webhooks/')");
    expect(() =>
      synth((s) => {
        new ArmorPolicy(s, "armor", {
          projectId: P,
          spec: { ...armor, rateLimit: { ...armor.rateLimit, intervalSec: 45 } },
        });
      }),
    ).toThrow(/interval 45s/);
  });
  it("names the certificate after the domain, so a new domain gets a new certificate before the old goes", () => {
    const cert = (domain: string) =>
      only(
        synth((s) => {
          new Edge(s, "edge", {
            projectId: P,
            region: "europe-west1",
            service: { name: "switchboard" },
            domain,
            securityPolicy: { id: "policy" },
            labels: LABELS,
          });
        }),
        "google_compute_managed_ssl_certificate",
      );
    expect(cert("a.example.com").name).not.toBe(cert("b.example.com").name);
    expect(cert("a.example.com").name).toBe(cert("a.example.com").name);
    expect(cert("a.example.com").name).toMatch(/^switchboard-[0-9a-f]{8}$/);
  });
});

describe("TaskQueue and PollSchedule", () => {
  const out = synth((s) => {
    new TaskQueue(s, "tasks", {
      projectId: P,
      region: "europe-west1",
      spec: environments.prod.tasks,
      enqueuer: { email: "run@x" },
      invoker: { email: "invoker@x" },
    });
    new PollSchedule(s, "poll", {
      projectId: P,
      region: "europe-west1",
      spec: environments.prod.polling,
      targetUrl: "https://svc/internal/poll",
      audience: "https://svc",
      invoker: { email: "invoker@x" },
    });
  });
  it("rate-limits dispatch and backs off retries", () => {
    expect(only(out, "google_cloud_tasks_queue")).toMatchObject({
      name: "switchboard-outbox",
      rate_limits: { max_dispatches_per_second: 5, max_concurrent_dispatches: 20 },
      retry_config: { max_attempts: 10, min_backoff: "10s", max_backoff: "600s" },
    });
  });
  it("grants enqueue on the queue itself to the runtime", () => {
    expect(only(out, "google_cloud_tasks_queue_iam_member")).toMatchObject({
      role: "roles/cloudtasks.enqueuer",
      member: "serviceAccount:run@x",
    });
  });
  it("polls the internal endpoint with an OIDC token", () => {
    expect(only(out, "google_cloud_scheduler_job")).toMatchObject({
      schedule: "* * * * *",
      http_target: {
        uri: "https://svc/internal/poll",
        http_method: "POST",
        oidc_token: { service_account_email: "invoker@x", audience: "https://svc" },
      },
    });
  });
});

describe("LogMetrics", () => {
  const out = synth((s) => {
    new LogMetrics(s, "log-metrics", { projectId: P, serviceNames: ["switchboard", "switchboard-worker"] });
  });
  it("defines one metric per row over the service's stdout events", () => {
    const metrics = resources(out, "google_logging_metric");
    expect(sorted(metrics.map((m) => m.name))).toEqual(sorted(LOG_METRICS.map((m) => m.name)));
    const duration = metrics.find((m) => m.name === "switchboard_conversation_duration_ms") as Json;
    expect(duration.filter).toContain('jsonPayload.event="conversation.processed"');
    expect(duration.filter).toContain(`logName="projects/${P}/logs/run.googleapis.com%2Fstdout"`);
    // Background turns run on the worker: its events count too.
    expect(duration.filter).toContain('resource.labels.service_name=("switchboard" OR "switchboard-worker")');
    expect(duration).toMatchObject({
      value_extractor: "EXTRACT(jsonPayload.durationMs)",
      metric_descriptor: { value_type: "DISTRIBUTION", metric_kind: "DELTA" },
      label_extractors: { channel: "EXTRACT(jsonPayload.channel)", outcome: "EXTRACT(jsonPayload.outcome)" },
    });
    const errors = metrics.find((m) => m.name === "switchboard_upstream_errors") as Json;
    expect(errors).toMatchObject({
      metric_descriptor: { value_type: "INT64" },
      label_extractors: { upstream: "EXTRACT(jsonPayload.upstream)", status: "EXTRACT(jsonPayload.status)" },
    });
    expect(errors.value_extractor).toBeUndefined();
    // The context-cache alert keeps to chat calls: the usage metrics carry the call's purpose.
    const cached = metrics.find((m) => m.name === "switchboard_model_cached_tokens") as Json;
    expect(cached.label_extractors).toMatchObject({ purpose: "EXTRACT(jsonPayload.purpose)" });
  });
});

describe("NotificationChannels, UptimeCheck and Budget", () => {
  const out = synth((s) => {
    const channels = new NotificationChannels(s, "notifications", {
      projectId: P,
      emails: ["a@example.com", "b@example.com"],
      labels: LABELS,
    });
    new UptimeCheck(s, "uptime", { projectId: P, host: "svc-1.europe-west1.run.app", labels: LABELS });
    new Budget(s, "budget", {
      billingAccount: "000000-000000-000000",
      projectNumber: "123",
      displayName: "switchboard-test",
      monthlyUsd: 100,
      notificationChannelIds: channels.channelIds,
    });
  });
  it("creates an e-mail channel per address", () => {
    expect(resources(out, "google_monitoring_notification_channel").map((c) => c.labels)).toEqual([
      { email_address: "a@example.com" },
      { email_address: "b@example.com" },
    ]);
  });
  it("checks the readiness endpoint over HTTPS", () => {
    expect(only(out, "google_monitoring_uptime_check_config")).toMatchObject({
      monitored_resource: { type: "uptime_url", labels: { host: "svc-1.europe-west1.run.app" } },
      http_check: { path: "/api/v1/health", use_ssl: true, validate_ssl: true, port: 443 },
    });
  });
  it("budgets the project with 50/80/100 % thresholds", () => {
    const budget = only(out, "google_billing_budget") as Json & { threshold_rules: Json[] };
    expect(budget.budget_filter).toMatchObject({ projects: ["projects/123"] });
    expect(budget.amount).toEqual({ specified_amount: { units: "100" } });
    expect(
      budget.threshold_rules.filter((r) => r.spend_basis === "CURRENT_SPEND").map((r) => r.threshold_percent),
    ).toEqual([0.5, 0.8, 1]);
  });
});

describe("Budget currency", () => {
  it("leaves the currency to the billing account (the API refuses a code that differs from it)", () => {
    const out = synth((s) => {
      new Budget(s, "budget", {
        billingAccount: "000000-000000-000000",
        projectNumber: "123",
        displayName: "b",
        monthlyUsd: 100,
        notificationChannelIds: [],
      });
    });
    expect(JSON.stringify(only(out, "google_billing_budget"))).not.toContain("currency_code");
  });
});

describe("LogMetrics units", () => {
  it("refuses a unit outside Cloud Monitoring's grammar at synth", () => {
    const make = (unit: string) => () =>
      synth((s) => {
        new LogMetrics(s, "log-metrics", {
          projectId: P,
          serviceNames: ["switchboard"],
          metrics: [{ ...(LOG_METRICS[0] as (typeof LOG_METRICS)[number]), unit }],
        });
      });
    expect(make("USD")).toThrow(/unit "USD" is not in Cloud Monitoring's unit grammar/);
    expect(make("{USD}")).not.toThrow();
  });
});

describe("bootstrap constructs", () => {
  const out = synth((s) => {
    const state = new StateBucket(s, "state", {
      projectId: P,
      name: "tf-state-000000",
      location: "europe-west1",
      labels: LABELS,
    });
    const oidc = new GithubOidc(s, "github-oidc", { projectId: P, repository: "example-org/switchboard" });
    new CiIdentities(s, "ci", {
      projectId: P,
      targetProjects: { dev: "switchboard-dev-000000" },
      stateBucketName: state.bucket.name,
      planPrincipalSet: oidc.repositoryPrincipalSet,
      deployPrincipalSet: oidc.mainBranchPrincipalSet,
    });
  });
  it("makes a private, versioned state bucket that expires old versions", () => {
    expect(only(out, "google_storage_bucket")).toMatchObject({
      uniform_bucket_level_access: true,
      public_access_prevention: "enforced",
      versioning: { enabled: true },
      lifecycle: { prevent_destroy: true },
      lifecycle_rule: [
        { condition: { num_newer_versions: 20 } },
        { condition: { days_since_noncurrent_time: 90 } },
      ],
    });
  });
  it("trusts GitHub OIDC for one repository only", () => {
    expect(only(out, "google_iam_workload_identity_pool_provider")).toMatchObject({
      attribute_condition:
        'assertion.repository == "example-org/switchboard" && assertion.event_name != "pull_request_target"',
      oidc: { issuer_uri: "https://token.actions.githubusercontent.com" },
    });
  });
  it("lets pull requests impersonate the plan identity and only main impersonate the deploy identity", () => {
    const members = resources(out, "google_service_account_iam_member").map((m) => String(m.member));
    expect(members.filter((m) => m.endsWith("/attribute.repository/example-org/switchboard"))).toHaveLength(
      1,
    );
    expect(members.filter((m) => m.endsWith("/attribute.ref/refs/heads/main"))).toHaveLength(1);
  });
  it("grants plan read-only roles and deploy its apply roles on each target project, no basic roles, no keys", () => {
    const roles = resources(out, "google_project_iam_member").map((m) => m.role as string);
    // Predefined roles; the plan identity's custom reader role is checked below.
    expect(roles.filter((r) => r.startsWith("roles/")).sort()).toEqual(
      [...PLAN_ROLES, ...DEPLOY_ROLES].sort(),
    );
    expect(roles).not.toEqual(expect.arrayContaining(["roles/owner", "roles/editor", "roles/viewer"]));
    // Applying the edge creates Cloud Armor policies and managed certificates: not in compute.networkAdmin.
    expect(roles).toContain("roles/compute.securityAdmin");
    expect(resources(out, "google_service_account_key")).toEqual([]);
    const stateRoles = Object.fromEntries(
      resources(out, "google_storage_bucket_iam_member").map((m) => [String(m.role), String(m.member)]),
    );
    expect(stateRoles["roles/storage.objectViewer"]).toContain("ci_plan");
    expect(stateRoles["roles/storage.objectUser"]).toContain("ci_deploy");
  });
});

describe("CI identities' least privilege", () => {
  const make = (billingAccount?: string) =>
    synth((s) => {
      new CiIdentities(s, "ci", {
        projectId: P,
        targetProjects: { dev: "switchboard-dev-000000", prod: "switchboard-prod-000000" },
        stateBucketName: "tf-state-000000",
        planPrincipalSet: "principalSet://plan",
        deployPrincipalSet: "principalSet://deploy",
        ...(billingAccount ? { billingAccount } : {}),
      });
    });
  const out = make("000000-000000-000000");
  const grants = resources(out, "google_project_iam_member") as (Json & { role: string; member: string })[];
  const deployGrants = grants.filter((g) => g.member.includes("google_service_account.ci_deploy"));

  it("gives the plan identity a custom role on each project with what its refresh reads beyond the viewer roles", () => {
    const roles = resources(out, "google_project_iam_custom_role");
    expect(roles.map((r) => r.project).sort()).toEqual(["switchboard-dev-000000", "switchboard-prod-000000"]);
    for (const role of roles) {
      // The service networking peering's read (services.connections.list) and the budget's (GetBudget).
      expect([...(role.permissions as string[])].sort()).toEqual([
        "billing.resourcebudgets.read",
        "resourcemanager.projects.get",
        "servicenetworking.services.get",
      ]);
    }
    const custom = grants.filter((g) => g.role.includes("google_project_iam_custom_role"));
    expect(custom).toHaveLength(2);
    for (const g of custom) expect(g.member).toContain("google_service_account.ci_plan");
    const noBudget = resources(make(), "google_project_iam_custom_role")[0]?.permissions as string[];
    expect(noBudget).not.toContain("billing.resourcebudgets.read");
  });

  it("grants the plan identity nothing on the billing account; the budget is read through the project", () => {
    const billing = resources(out, "google_billing_account_iam_member");
    expect(billing).toEqual([
      expect.objectContaining({
        role: "roles/billing.costsManager",
        member: expect.stringContaining("ci_deploy"),
      }),
    ]);
  });

  it("lets the deploy identity grant only the roles the platform grants, and act as no account project-wide", () => {
    expect(deployGrants.map((g) => g.role)).not.toContain("roles/iam.serviceAccountUser");
    const admin = deployGrants.filter((g) => g.role === "roles/resourcemanager.projectIamAdmin");
    expect(admin).toHaveLength(2);
    const list = [...Identity.GRANTABLE_PROJECT_ROLES]
      .sort()
      .map((r) => `'${r}'`)
      .join(", ");
    for (const g of admin) {
      expect(g.condition).toMatchObject({
        expression: `api.getAttribute('iam.googleapis.com/modifiedGrantsByRole', []).hasOnly([${list}])`,
        title: expect.any(String),
      });
    }
    // Every other grant is unconditional and none of them may change IAM policy on the project.
    for (const g of deployGrants.filter((x) => x.role !== "roles/resourcemanager.projectIamAdmin")) {
      expect(g.condition, g.role).toBeUndefined();
    }
  });
});

describe("ServiceEnvironment", () => {
  it("refuses a variable set twice, plain or secret, and copies without touching the original", () => {
    const shared = new ServiceEnvironment().set("A", "1").setSecret("S", "secret-id");
    expect(() => shared.set("A", "2")).toThrow(/A is set twice/);
    expect(() => shared.setSecret("A", "other")).toThrow(/A is set twice/);
    expect(() => shared.set("S", "plain")).toThrow(/S is set twice/);
    const one = shared.copy().set("ROLE", "public");
    expect(one.env).toEqual({ A: "1", ROLE: "public" });
    expect(shared.env).toEqual({ A: "1" });
    expect(shared.copy().setSecret("P", "secret-id", 3).secretEnv).toEqual({
      S: "secret-id",
      P: "secret-id@3",
    });
  });

  it("is filled by the constructs that produce the values, with what a revision must wait for", () => {
    const out = synth((s) => {
      const network = new Network(s, "network", {
        projectId: P,
        region: "europe-west1",
        network: environments.prod.network,
        connector: environments.prod.connector,
        labels: LABELS,
      });
      const identity = new Identity(s, "identity", {
        projectId: P,
        deployerMember: "serviceAccount:deploy@x",
      });
      const database = new Database(s, "database", {
        projectId: P,
        region: "europe-west1",
        spec: environments.prod.database,
        deletionProtection: true,
        network,
        iamServiceAccountUser: identity.runtimeDatabaseUser,
        labels: LABELS,
      });
      const secrets = new Secrets(s, "secrets", {
        projectId: P,
        secrets: secretsFor(environments.prod),
        accessor: identity.runtime,
        labels: LABELS,
        ready: ["intercom-access-token", "session-signing-key"],
        previousVersions: { "session-signing-key": 4 },
      });
      const queue = new TaskQueue(s, "tasks", {
        projectId: P,
        region: "europe-west1",
        spec: environments.prod.tasks,
        enqueuer: identity.runtime,
        invoker: identity.invoker,
      });
      const environment = new ServiceEnvironment().add(database, secrets, queue, identity);
      new RunService(s, "run", {
        projectId: P,
        region: "europe-west1",
        image: "i",
        serviceAccount: identity.runtime,
        spec: environments.prod.run,
        deletionProtection: true,
        network,
        environment,
        labels: LABELS,
      });
    });
    type Env = { name: string; value?: string; value_source?: { secret_key_ref: Json } };
    const service = only(out, "google_cloud_run_v2_service") as Json & {
      template: { containers: { env: Env[] }[] };
      depends_on: string[];
    };
    const env = service.template.containers[0]?.env ?? [];
    expect(Object.fromEntries(env.filter((e) => e.value).map((e) => [e.name, e.value]))).toEqual({
      CLOUD_SQL_INSTANCE: `${P}:europe-west1:switchboard-pg`,
      CLOUD_SQL_IP_TYPE: "PRIVATE",
      DATABASE_USER: `switchboard-run@${P}.iam`,
      DATABASE_NAME: "switchboard",
      // Read by the service itself, so a rotation needs no new revision.
      INTERCOM_ACCESS_TOKEN: "sm://intercom-access-token",
      TASK_QUEUE: "cloud-tasks",
      CLOUD_TASKS_QUEUE: `projects/${P}/locations/europe-west1/queues/switchboard-outbox`,
      TASKS_INVOKER_SA: expect.stringMatching(/google_service_account\.identity_invoker_[0-9A-F]+\.email/),
    });
    // Only the secrets that have a version; the previous signing key pinned during a rotation.
    expect(
      env.filter((e) => e.value_source).map((e) => [e.name, e.value_source?.secret_key_ref.version]),
    ).toEqual([
      ["SESSION_SIGNING_KEY", "latest"],
      ["SESSION_SIGNING_KEY_PREVIOUS", "4"],
    ]);
    // What Terraform cannot see from references: the IAM user, every secret and grant, the runtime's roles
    // and the deployer's actAs.
    const waits = (type: string) => service.depends_on.filter((d) => d.startsWith(`${type}.`)).length;
    expect(waits("google_sql_user")).toBe(1);
    expect(waits("google_secret_manager_secret")).toBe(secretsFor(environments.prod).length);
    expect(waits("google_secret_manager_secret_iam_member")).toBe(secretsFor(environments.prod).length);
    expect(waits("google_project_iam_member")).toBe(Identity.RUNTIME_ROLES.length);
    expect(waits("google_service_account_iam_member")).toBe(2);
    // The connector is the network's path out: no Direct VPC egress interface next to it.
    expect((service.template as unknown as Json).vpc_access).toEqual({
      connector: expect.stringMatching(/google_vpc_access_connector\.network_connector/),
      egress: "PRIVATE_RANGES_ONLY",
    });
  });
});
