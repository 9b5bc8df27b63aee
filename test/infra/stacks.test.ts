import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { environments } from "../../infra/environments";
import { exampleSite, type Site } from "../../infra/site";
import {
  countsByType,
  only,
  resources,
  STACK_NAMES,
  type StackJson,
  type StackName,
  synthAll,
} from "./helpers";

let stacks: Record<StackName, StackJson>;

/** Cloud Run's deterministic URL, with the project number the example site gives prod. */
const RUN_URL = "https://switchboard-100000000003.europe-west1.run.app";
const WORKER_URL = "https://switchboard-worker-100000000003.europe-west1.run.app";

beforeAll(() => {
  stacks = synthAll();
});

type Env = {
  name: string;
  value?: string;
  value_source?: { secret_key_ref: { secret: string; version: string } };
};
/** One Cloud Run service of a stack by name: the public `switchboard` or the `switchboard-worker`. */
const runService = (stack: StackJson, name = "switchboard"): Record<string, unknown> => {
  const found = resources(stack, "google_cloud_run_v2_service").filter((r) => r.name === name);
  if (found.length !== 1) throw new Error(`expected one Cloud Run service ${name}, found ${found.length}`);
  return found[0] as Record<string, unknown>;
};
const runEnv = (stack: StackJson, name = "switchboard"): Env[] =>
  ((runService(stack, name).template as { containers: { env: Env[] }[] }).containers[0]?.env ?? []) as Env[];
type SchedulerJob = Record<string, unknown> & {
  http_target: { uri: string; oidc_token: { audience: string; service_account_email: string } };
};
const schedulerJob = (stack: StackJson, name: string): SchedulerJob => {
  const job = resources(stack, "google_cloud_scheduler_job").find((j) => j.name === name);
  if (!job) throw new Error(`no Cloud Scheduler job ${name}`);
  return job as SchedulerJob;
};
const plainEnv = (stack: StackJson, name?: string) =>
  Object.fromEntries(
    runEnv(stack, name)
      .filter((e) => e.value !== undefined)
      .map((e) => [e.name, e.value]),
  );

describe("the synthesized app", () => {
  it("has the bootstrap stack and one platform stack per environment", () => {
    for (const name of STACK_NAMES) expect(Object.keys(stacks[name].resource).length).toBeGreaterThan(5);
  });

  it("keeps each platform stack's state under its own prefix; bootstrap state is local", () => {
    expect(stacks.bootstrap.terraform.backend).toHaveProperty("local");
    const prefixes = (["dev", "staging", "prod"] as const).map(
      (n) => stacks[n].terraform.backend?.gcs?.prefix,
    );
    expect(prefixes).toEqual(["switchboard/dev", "switchboard/staging", "switchboard/prod"]);
  });

  it("creates the expected resources per environment", () => {
    const platform = {
      google_artifact_registry_repository: 1,
      google_billing_budget: 1,
      google_cloud_run_v2_service: 2,
      google_cloud_run_v2_service_iam_member: 1,
      // The poller, the retention purge and the Gmail watch renewal.
      google_cloud_scheduler_job: 3,
      google_cloud_tasks_queue: 1,
      google_cloud_tasks_queue_iam_member: 1,
      google_compute_global_address: 1,
      google_compute_network: 1,
      google_compute_subnetwork: 1,
      google_logging_metric: 25,
      google_monitoring_alert_policy: 21,
      google_monitoring_dashboard: 5,
      google_monitoring_notification_channel: 1,
      google_monitoring_uptime_check_config: 1,
      // 6, and the runtime's three conditioned grants for tenant secrets (TenantSecrets).
      google_project_iam_member: 9,
      google_project_service: 20,
      // Gmail push (GmailPush): the topic and its dead-letter topic, the push and dead-letter subscriptions,
      // Gmail's publisher grant and the Pub/Sub agent's, and the push identity with its two grants.
      google_pubsub_subscription: 2,
      google_pubsub_subscription_iam_member: 1,
      google_pubsub_topic: 2,
      google_pubsub_topic_iam_member: 2,
      // 6, and the OAuth client id and secret of the e-mail channel.
      google_secret_manager_secret: 8,
      google_secret_manager_secret_iam_member: 8,
      google_service_account: 3,
      google_service_account_iam_member: 5,
      google_service_networking_connection: 1,
      google_sql_database: 1,
      google_sql_database_instance: 1,
      google_sql_user: 1,
      google_vpc_access_connector: 1,
      time_sleep: 1,
    };
    // dev uses Direct VPC egress: no connector, and no Serverless VPC Access API.
    const { google_vpc_access_connector: _connector, ...direct } = platform;
    expect(countsByType(stacks.dev)).toEqual({ ...direct, google_project_service: 19 });
    expect(countsByType(stacks.staging)).toEqual(platform);
    // prod has a domain in the example site: the edge load balancer and its Cloud Armor policy.
    expect(countsByType(stacks.prod)).toEqual({
      ...platform,
      google_compute_backend_service: 1,
      google_compute_global_address: 2,
      google_compute_global_forwarding_rule: 2,
      google_compute_managed_ssl_certificate: 1,
      google_compute_region_network_endpoint_group: 1,
      google_compute_security_policy: 1,
      google_compute_ssl_policy: 1,
      google_compute_target_http_proxy: 1,
      google_compute_target_https_proxy: 1,
      google_compute_url_map: 2,
      // Data Access audit logs for Secret Manager and Cloud SQL (environments.ts auditLogs).
      google_project_iam_audit_config: 2,
    });
    expect(countsByType(stacks.bootstrap)).toEqual({
      google_billing_account_iam_member: 1,
      google_iam_workload_identity_pool: 1,
      google_iam_workload_identity_pool_provider: 1,
      google_project_iam_custom_role: 3,
      // Per environment: the plan and deploy roles (Pub/Sub's viewer and admin among them).
      google_project_iam_member: 99,
      google_project_service: 8,
      google_service_account: 2,
      google_service_account_iam_member: 2,
      google_storage_bucket: 1,
      google_storage_bucket_iam_member: 2,
    });
  });

  it("pins Terraform and every provider in the synthesized JSON", () => {
    const require = createRequire(import.meta.url);
    const prebuilt = (name: string) =>
      (require(`@cdktf/${name}/package.json`) as { cdktf: { provider: { version: string } } }).cdktf.provider
        .version;
    // The Terraform release the workflows install must satisfy every stack's required_version.
    const dir = join(import.meta.dirname, "../../.github/workflows");
    const ciVersions = readdirSync(dir).map(
      (f) => (parseYaml(readFileSync(join(dir, f), "utf8")) as { env?: Record<string, string> }).env,
    );
    const pinned = ciVersions.map((e) => e?.TERRAFORM_VERSION).filter((v): v is string => Boolean(v));
    expect(pinned.length).toBeGreaterThan(0);
    for (const name of STACK_NAMES) {
      const { required_version: range, required_providers: providers } = stacks[name].terraform;
      expect(range, name).toMatch(/^>= \d+\.\d+\.\d+, < \d+\.\d+\.\d+$/);
      for (const version of pinned)
        expect(satisfies(version, range ?? ""), `${version} in ${range}`).toBe(true);
      expect(providers?.google, name).toEqual({ source: "google", version: prebuilt("provider-google") });
      if (name !== "bootstrap") {
        expect(providers?.time, name).toEqual({
          source: "hashicorp/time",
          version: prebuilt("provider-time"),
        });
      }
      for (const [provider, pin] of Object.entries(providers ?? {})) {
        expect(pin.version, `${name}: ${provider}`).toMatch(/^\d+\.\d+\.\d+$/);
      }
    }
    expect(satisfies("1.4.7", stacks.prod.terraform.required_version ?? "")).toBe(false);
    expect(satisfies("2.0.0", stacks.prod.terraform.required_version ?? "")).toBe(false);
  });

  it("matches the prod snapshot", () => {
    expect(stacks.prod).toMatchSnapshot();
  });

  it("sizes each environment from its data: dev scales to zero without HA, prod is HA with a warm instance", () => {
    for (const name of ["dev", "staging", "prod"] as const) {
      const spec = environments[name];
      const run = runService(stacks[name]) as {
        template: {
          scaling: Record<string, number>;
          max_instance_request_concurrency: number;
          timeout: string;
        };
      };
      expect(run.template.scaling).toEqual({
        min_instance_count: spec.run.minInstances,
        max_instance_count: spec.run.maxInstances,
      });
      expect(run.template.max_instance_request_concurrency).toBe(spec.run.concurrency);
      const sql = only(stacks[name], "google_sql_database_instance") as { settings: Record<string, unknown> };
      expect(sql.settings.tier).toBe(spec.database.tier);
      expect(sql.settings.availability_type).toBe(spec.database.availability);
    }
    expect(environments.dev.run.minInstances).toBe(0);
    expect(environments.dev.database.availability).toBe("ZONAL");
    expect(environments.prod.run.minInstances).toBeGreaterThanOrEqual(1);
    expect(environments.prod.database.availability).toBe("REGIONAL");
    expect(only(stacks.dev, "google_sql_database_instance").deletion_protection).toBe(false);
    expect(only(stacks.prod, "google_sql_database_instance").deletion_protection).toBe(true);
  });

  it("gives the service every env var of the contract, credentials only from Secret Manager", () => {
    const env = runEnv(stacks.prod);
    const plain = plainEnv(stacks.prod);
    expect(Object.keys(plain).sort()).toEqual(
      [
        "CLOUD_SQL_INSTANCE",
        "CLOUD_SQL_IP_TYPE",
        "CLOUD_TASKS_QUEUE",
        "CORS_ORIGINS",
        "DATABASE_NAME",
        "DATABASE_POOL_MAX",
        "DATABASE_USER",
        "GMAIL_PUBSUB_TOPIC",
        "GMAIL_PUSH_AUDIENCE",
        "GMAIL_PUSH_SERVICE_ACCOUNT",
        "GOOGLE_CLOUD_LOCATION",
        "GOOGLE_CLOUD_PROJECT",
        "GOOGLE_GENAI_USE_VERTEXAI",
        "INTERCOM_ACCESS_TOKEN",
        "INTERCOM_ADMIN_ID",
        "INTERCOM_REGION",
        "INTERNAL_AUDIENCE",
        "LOG_LEVEL",
        "MODEL_PROVIDER",
        "NODE_ENV",
        "POLLING_INTERVAL",
        "PUBLIC_URL",
        "SECRET_STORE",
        "SECRET_STORE_PREFIX",
        "SERVICE_ROLE",
        "TASK_QUEUE",
        "TASKS_INVOKER_SA",
        "TRUSTED_PROXY_HOPS",
        "WORKER_URL",
      ].sort(),
    );
    // Cloud SQL through the connector (issue 10, item 7): no DATABASE_URL, no sslmode=require.
    expect(plain).toMatchObject({
      CLOUD_SQL_INSTANCE: "switchboard-prod-000000:europe-west1:switchboard-pg",
      CLOUD_SQL_IP_TYPE: "PRIVATE",
      DATABASE_USER: "switchboard-run@switchboard-prod-000000.iam",
      DATABASE_NAME: "switchboard",
    });
    expect(JSON.stringify(stacks.prod.resource)).not.toMatch(/DATABASE_URL|DATABASE_IAM_AUTH|sslmode/);
    expect(plain.CLOUD_TASKS_QUEUE).toBe(
      "projects/switchboard-prod-000000/locations/europe-west1/queues/switchboard-outbox",
    );
    // prod is served at its domain through the edge (issue 10); staging stays on its run.app URL.
    expect(plain.PUBLIC_URL).toBe("https://chat.example.com");
    expect(plainEnv(stacks.staging).PUBLIC_URL).toBe("https://switchboard-100000000002.europe-west1.run.app");
    // The worker serves /internal/*: tasks target it and it is the OIDC audience (issue 10, item 10).
    expect(plain.WORKER_URL).toBe(WORKER_URL);
    expect(plain.INTERNAL_AUDIENCE).toBe(WORKER_URL);
    // Resolved by the service itself, so a 401 after a rotation re-reads the latest version.
    expect(plain.INTERCOM_ACCESS_TOKEN).toBe("sm://intercom-access-token");
    const secret = env.filter((e) => e.value_source).map((e) => e.name);
    expect(secret.sort()).toEqual(
      ["ADMIN_API_KEY", "INTERCOM_WEBHOOK_SECRET", "JWT_SECRET", "SESSION_SIGNING_KEY"].sort(),
    );
    for (const e of env.filter((x) => x.value_source))
      expect(e.value_source?.secret_key_ref.version).toBe("latest");
  });

  it("sends private-range egress through Direct VPC egress or the connector, as each environment's data says", () => {
    type Vpc = { connector?: string; network_interfaces?: Record<string, string>[]; egress: string };
    const vpcOf = (stack: StackJson, name: string) =>
      (runService(stack, name).template as { vpc_access: Vpc }).vpc_access;
    for (const env of ["dev", "staging", "prod"] as const) {
      const direct = environments[env].network.egress === "direct";
      const subnet = only(stacks[env], "google_compute_subnetwork");
      expect(subnet).toMatchObject({
        ip_cidr_range: direct
          ? environments[env].network.directEgressCidr
          : environments[env].network.connectorCidr,
        private_ip_google_access: true,
        log_config: expect.any(Object),
      });
      expect(resources(stacks[env], "google_vpc_access_connector")).toHaveLength(direct ? 0 : 1);
      for (const service of ["switchboard", "switchboard-worker"]) {
        const vpc = vpcOf(stacks[env], service);
        expect(vpc.egress).toBe("PRIVATE_RANGES_ONLY");
        if (direct) {
          expect(vpc.connector).toBeUndefined();
          expect(vpc.network_interfaces).toEqual([
            {
              network: expect.stringMatching(/google_compute_network\.network_vpc/),
              subnetwork: expect.stringMatching(/google_compute_subnetwork\.network_run-subnet/),
            },
          ]);
        } else {
          expect(vpc.connector).toMatch(/google_vpc_access_connector\.network_connector/);
        }
      }
    }
    expect(environments.dev.network.egress).toBe("direct");
  });

  it("sizes the Direct VPC egress subnet for both services at their maximum during a rollout", () => {
    // ~2 IPs per instance, reserved in blocks of 16 per revision; old and new revision during a rollout.
    // https://cloud.google.com/run/docs/configuring/vpc-direct-vpc (IP address allocation)
    const perService = (maxInstances: number) => 2 * Math.ceil((2 * maxInstances) / 16) * 16;
    for (const name of ["dev", "staging", "prod"] as const) {
      const { run, worker, network } = environments[name];
      const prefix = Number(network.directEgressCidr.split("/")[1]);
      expect(prefix).toBeLessThanOrEqual(26);
      const usable = 2 ** (32 - prefix) - 4;
      expect(perService(run.maxInstances) + perService(worker.maxInstances)).toBeLessThanOrEqual(usable);
    }
  });

  it("lets the runtime identity do what the Cloud SQL connector needs: certificate, metadata, IAM login", () => {
    const runtimeRoles = resources(stacks.prod, "google_project_iam_member")
      .filter((m) => String(m.member).includes("google_service_account.identity_runtime"))
      .map((m) => m.role);
    // cloudsql.client: connectSettings (instance metadata, CA) and generateEphemeralCert;
    // cloudsql.instanceUser: cloudsql.instances.login for automatic IAM database authentication.
    expect(runtimeRoles).toEqual(
      expect.arrayContaining(["roles/cloudsql.client", "roles/cloudsql.instanceUser"]),
    );
    expect(resources(stacks.prod, "google_project_service").map((a) => a.service)).toContain(
      "sqladmin.googleapis.com",
    );
    const user = only(stacks.prod, "google_sql_user");
    expect(user).toMatchObject({ type: "CLOUD_IAM_SERVICE_ACCOUNT" });
    expect(user.name).toBe(plainEnv(stacks.prod).DATABASE_USER);
    expect(plainEnv(stacks.prod, "switchboard-worker").DATABASE_USER).toBe(user.name);
  });

  it("runs the same image as an internal worker that only the invoker identity may call", () => {
    for (const name of ["dev", "staging", "prod"] as const) {
      const spec = environments[name];
      const worker = runService(stacks[name], "switchboard-worker") as Record<string, unknown> & {
        template: {
          containers: { image: string }[];
          timeout: string;
          max_instance_request_concurrency: number;
        };
      };
      const publicService = runService(stacks[name]) as typeof worker;
      expect(worker.ingress).toBe("INGRESS_TRAFFIC_INTERNAL_ONLY");
      expect(worker.invoker_iam_disabled).toBeUndefined();
      expect(worker.template.containers[0]?.image).toBe(publicService.template.containers[0]?.image);
      expect(worker.template.timeout).toBe(`${spec.worker.timeoutSeconds}s`);
      expect(worker.template.max_instance_request_concurrency).toBe(spec.worker.concurrency);
      expect(plainEnv(stacks[name], "switchboard-worker")).toMatchObject({
        SERVICE_ROLE: "worker",
        WORKER_URL: expect.stringContaining("switchboard-worker-"),
        INTERNAL_AUDIENCE: expect.stringContaining("switchboard-worker-"),
        DATABASE_POOL_MAX: String(spec.worker.databasePoolMax),
      });
      expect(plainEnv(stacks[name]).SERVICE_ROLE).toBe("public");
      // One binding in the whole stack: run.invoker for the invoker identity, on the worker.
      const grants = resources(stacks[name], "google_cloud_run_v2_service_iam_member");
      expect(grants).toEqual([
        expect.objectContaining({
          role: "roles/run.invoker",
          name: expect.stringMatching(/google_cloud_run_v2_service\.worker_service/),
          member: expect.stringMatching(/google_service_account\.identity_invoker/),
        }),
      ]);
    }
  });

  it("sizes the worker for Cloud Tasks: room for every concurrent dispatch, and connections under the alert", () => {
    for (const name of ["dev", "staging", "prod"] as const) {
      const { run, worker, tasks, database } = environments[name];
      expect(worker.maxInstances * worker.concurrency).toBeGreaterThanOrEqual(tasks.maxConcurrentDispatches);
      // Cloud Tasks waits 10 minutes for an HTTP task by default; Cloud Run must not cut the turn first.
      expect(worker.timeoutSeconds).toBeGreaterThanOrEqual(600);
      const connections =
        run.maxInstances * run.databasePoolMax + worker.maxInstances * worker.databasePoolMax;
      expect(connections).toBeLessThanOrEqual(Math.floor(database.maxConnections * 0.9));
    }
  });

  it("points the poller at the worker's internal endpoint with an OIDC token for the worker's audience", () => {
    const job = schedulerJob(stacks.prod, "switchboard-intercom-poll");
    expect(job.http_target.uri).toBe(`${WORKER_URL}/internal/poll`);
    expect(job.http_target.oidc_token.audience).toBe(WORKER_URL);
    expect(job.http_target.oidc_token.service_account_email).toMatch(
      /google_service_account\.identity_invoker/,
    );
  });

  it("reads nothing at plan time: no data source, the project number comes from the site", () => {
    // A data source is read during the first plan, when the new project's APIs are still disabled (403).
    for (const name of STACK_NAMES) expect(stacks[name].data, name).toBeUndefined();
    const site = exampleSite();
    for (const name of ["dev", "staging", "prod"] as const) {
      const number = site.environments[name].projectNumber;
      expect(stacks[name].output?.worker_url?.value).toBe(
        `https://switchboard-worker-${number}.europe-west1.run.app`,
      );
      expect(only(stacks[name], "google_billing_budget").budget_filter).toMatchObject({
        projects: [`projects/${number}`],
      });
      // Prod's public URL is its edge domain in the example site; the others are on run.app.
      if (name === "prod") continue;
      expect(stacks[name].output?.service_url?.value).toBe(
        `https://switchboard-${number}.europe-west1.run.app`,
      );
      expect(only(stacks[name], "google_monitoring_uptime_check_config").monitored_resource).toMatchObject({
        labels: { host: `switchboard-${number}.europe-west1.run.app` },
      });
    }
  });

  it("creates alert policies on log-based metrics only after the metrics exist and have propagated", () => {
    const stack = stacks.prod;
    const [sleepName, sleep] = Object.entries(stack.resource.time_sleep ?? {})[0] ?? [];
    expect(sleep).toBeDefined();
    const metrics = Object.entries(stack.resource.google_logging_metric ?? {});
    // The wait follows every metric, and runs again whenever one is added or replaced.
    for (const [id] of metrics) expect(sleep?.depends_on).toContain(`google_logging_metric.${id}`);
    expect(Object.values(sleep?.triggers as Record<string, string>).sort()).toEqual(
      metrics.map(([id]) => `\${google_logging_metric.${id}.id}`).sort(),
    );
    expect(Number.parseInt(String(sleep?.create_duration), 10)).toBeGreaterThanOrEqual(60);
    const onLogMetrics = (p: Record<string, unknown>) =>
      /logging[._]googleapis[._]com[/:]user/.test(JSON.stringify(p.conditions));
    const policies = Object.values(stack.resource.google_monitoring_alert_policy ?? {});
    expect(policies.filter(onLogMetrics).length).toBeGreaterThanOrEqual(4);
    for (const policy of policies) {
      const waits = (policy.depends_on as string[]).includes(`time_sleep.${sleepName}`);
      expect(waits, String(policy.display_name)).toBe(onLogMetrics(policy));
    }
  });

  it("turns off metric validation on PromQL conditions (their log-based metrics have no data yet)", () => {
    const promql = resources(stacks.prod, "google_monitoring_alert_policy").flatMap((p) =>
      (p.conditions as { condition_prometheus_query_language?: Record<string, unknown> }[])
        .map((c) => c.condition_prometheus_query_language)
        .filter((c) => c !== undefined),
    );
    expect(promql.length).toBeGreaterThan(0);
    for (const condition of promql) expect(condition).toMatchObject({ disable_metric_validation: true });
  });

  it("lets the CI deploy identity act as the runtime, the invoker and the Gmail push identity only, before it needs to", () => {
    const deployer = "serviceAccount:switchboard-ci-deploy@switchboard-ops-000000.iam.gserviceaccount.com";
    const actAs = Object.entries(stacks.prod.resource.google_service_account_iam_member ?? {}).filter(
      ([, m]) => m.member === deployer,
    );
    expect(actAs.map(([, m]) => m.role)).toEqual([
      "roles/iam.serviceAccountUser",
      "roles/iam.serviceAccountUser",
      "roles/iam.serviceAccountUser",
    ]);
    expect(actAs.map(([, m]) => String(m.service_account_id)).sort()).toEqual([
      // The push subscription's OIDC identity: creating the subscription acts as it.
      expect.stringMatching(/^\$\{google_service_account\.email_push-identity_[0-9A-F]+\.name\}$/),
      expect.stringMatching(/^\$\{google_service_account\.identity_invoker_[0-9A-F]+\.name\}$/),
      expect.stringMatching(/^\$\{google_service_account\.identity_runtime_[0-9A-F]+\.name\}$/),
    ]);
    const addresses = actAs
      .filter(([, m]) => !String(m.service_account_id).includes("push-identity"))
      .map(([id]) => `google_service_account_iam_member.${id}`);
    const expected = { google_cloud_run_v2_service: 2, google_cloud_scheduler_job: 3 };
    for (const [type, count] of Object.entries(expected)) {
      const all = resources(stacks.prod, type);
      expect(all.length, type).toBe(count); // public + worker; poll + retention + Gmail watch renewal
      for (const r of all) expect(r.depends_on, type).toEqual(expect.arrayContaining(addresses));
    }
    // The bootstrap stack names the same account.
    expect(
      Object.values(stacks.bootstrap.resource.google_service_account ?? {}).map((a) => a.account_id),
    ).toContain("switchboard-ci-deploy");
  });

  it("grants at project level only roles the deploy identity's Project IAM Admin condition allows", () => {
    const condition = Object.values(stacks.bootstrap.resource.google_project_iam_member ?? {}).find(
      (m) => m.role === "roles/resourcemanager.projectIamAdmin",
    )?.condition as { expression: string } | undefined;
    const allowed = [...(condition?.expression.matchAll(/'([^']+)'/g) ?? [])].map((m) => m[1]);
    expect(allowed.length).toBeGreaterThan(0);
    const variants = [
      stacks,
      synthAll({
        environments: {
          ...environments,
          dev: {
            ...environments.dev,
            model: { ...environments.dev.model, gemini: "api-key", gptTrainer: true },
          },
        },
      }),
    ];
    for (const out of variants) {
      for (const name of ["dev", "staging", "prod"] as const) {
        for (const grant of resources(out[name], "google_project_iam_member")) {
          expect(allowed, `${name}: ${grant.role}`).toContain(grant.role);
        }
      }
    }
  });

  it("makes every bootstrap resource wait for the bootstrap project's APIs", () => {
    const apis = Object.keys(stacks.bootstrap.resource.google_project_service ?? {});
    expect(apis.length).toBeGreaterThan(5);
    for (const [type, byName] of Object.entries(stacks.bootstrap.resource)) {
      if (type === "google_project_service") continue;
      for (const [name, r] of Object.entries(byName)) {
        const waitsFor = (r.depends_on as string[] | undefined) ?? [];
        expect(waitsFor, `${type}.${name}`).toEqual(
          expect.arrayContaining(apis.map((id) => `google_project_service.${id}`)),
        );
      }
    }
  });

  it("opens the public service with invoker_iam_disabled, never an allUsers binding (Domain Restricted Sharing)", () => {
    for (const name of STACK_NAMES) expect(JSON.stringify(stacks[name].resource)).not.toContain("allUsers");
    const run = stacks.prod.resource.google_cloud_run_v2_service ?? {};
    const [publicService] = Object.values(run).filter((r) => r.name === "switchboard");
    expect(publicService?.invoker_iam_disabled).toBe(true);
    expect(publicService?.["//"]).toMatchObject({
      guardrail_exemptions: { SB_RUN_PUBLIC_INVOKER: expect.stringContaining("browsers") },
    });
  });

  it("purges old data daily: Cloud Scheduler calls POST /internal/retention on the worker with the invoker's token", () => {
    for (const name of ["dev", "staging", "prod"] as const) {
      const job = schedulerJob(stacks[name], "switchboard-retention");
      const poll = schedulerJob(stacks[name], "switchboard-intercom-poll");
      expect(job).toMatchObject({
        schedule: environments[name].retention.schedule,
        time_zone: "Etc/UTC",
        paused: false,
        attempt_deadline: `${environments[name].worker.timeoutSeconds}s`,
        http_target: { http_method: "POST", oidc_token: poll.http_target.oidc_token },
      });
      expect(job.http_target.uri).toMatch(/^https:\/\/switchboard-worker-.*\/internal\/retention$/);
      expect(job.http_target.oidc_token.audience).toBe(
        plainEnv(stacks[name], "switchboard-worker").INTERNAL_AUDIENCE,
      );
      // Daily: a cron with fixed minute and hour and wildcards for day, month and weekday.
      expect(environments[name].retention.schedule).toMatch(/^\d{1,2} \d{1,2} \* \* \*$/);
    }
  });

  it("makes every platform resource wait for the project APIs", () => {
    for (const [type, byName] of Object.entries(stacks.prod.resource)) {
      if (type === "google_project_service") continue;
      for (const r of Object.values(byName)) {
        expect(r.depends_on, type).toEqual(
          expect.arrayContaining([expect.stringMatching(/^google_project_service\.apis_run_/)]),
        );
      }
    }
  });

  it("keeps `cdktf synth --hcl` valid: no quoted string that also holds a reference, dashboards as files", () => {
    // cdktf's HCL renderer mangles a string like `a="${ref}"`; filters must use literal values only.
    const offenders: string[] = [];
    const walk = (v: unknown, path: string) => {
      if (typeof v === "string" && v.includes('"') && v.includes("${") && !v.startsWith("${"))
        offenders.push(path);
      else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`);
    };
    for (const name of STACK_NAMES) walk(stacks[name].resource, name);
    expect(offenders).toEqual([]);
    for (const d of resources(stacks.prod, "google_monitoring_dashboard")) {
      expect(d.dashboard_json).toMatch(
        /^\$\{templatefile\("assets\/dashboards_[a-z-]+-json_[0-9A-F]+\/[0-9A-F]+\/[a-z-]+\.json", \{\}\)\}$/,
      );
    }
  });

  it("exports the outputs operators need", () => {
    expect(Object.keys(stacks.prod.output ?? {})).toEqual(
      expect.arrayContaining([
        "service_url",
        "webhook_url",
        "database_connection_name",
        "queue_name",
        "image_repository",
        "worker_url",
        "worker_service",
      ]),
    );
    expect(stacks.prod.output?.worker_url?.value).toBe(WORKER_URL);
    expect(stacks.prod.output?.webhook_url?.value).toMatch(/\/webhooks\/intercom$/);
    expect(Object.keys(stacks.bootstrap.output ?? {})).toEqual(
      expect.arrayContaining([
        "state_bucket",
        "workload_identity_provider",
        "plan_service_account",
        "deploy_service_account",
      ]),
    );
  });

  it("sets the model alerts' thresholds per environment from its data", () => {
    for (const name of ["dev", "staging", "prod"] as const) {
      const policy = resources(stacks[name], "google_monitoring_alert_policy").find((p) =>
        String(p.display_name).includes("Model cost above"),
      ) as { conditions: { condition_prometheus_query_language: { query: string } }[] } | undefined;
      const query = policy?.conditions[0]?.condition_prometheus_query_language.query ?? "";
      expect(query.endsWith(`> ${environments[name].alerting.model.dailyCostUsd}`)).toBe(true);
    }
    expect(environments.prod.alerting.model.cacheHitRateMin).toBe(0.4);
  });

  it("notifies people from staging and prod alerts but keeps dev alerts silent", () => {
    const channels = (name: StackName) =>
      resources(stacks[name], "google_monitoring_alert_policy").map(
        (p) => p.notification_channels as string[],
      );
    for (const c of channels("dev")) expect(c).toEqual([]);
    for (const c of channels("prod")) expect(c).toHaveLength(1);
  });
});

describe("the edge in front of production", () => {
  const one = (type: string) => only(stacks.prod, type);
  it("is a global external Application Load Balancer with a serverless NEG for the public service", () => {
    expect(one("google_compute_region_network_endpoint_group")).toMatchObject({
      network_endpoint_type: "SERVERLESS",
      region: "europe-west1",
      cloud_run: {
        service: expect.stringMatching(/google_cloud_run_v2_service\.run_service_[0-9A-F]+\.name/),
      },
    });
    expect(one("google_compute_backend_service")).toMatchObject({
      load_balancing_scheme: "EXTERNAL_MANAGED",
      backend: [{ group: expect.stringContaining("google_compute_region_network_endpoint_group.edge_neg") }],
      security_policy: expect.stringContaining("google_compute_security_policy.armor_policy"),
      log_config: { enable: true, sample_rate: 1 },
    });
    expect(one("google_compute_backend_service").health_checks).toBeUndefined();
    for (const rule of resources(stacks.prod, "google_compute_global_forwarding_rule")) {
      expect(rule).toMatchObject({
        load_balancing_scheme: "EXTERNAL_MANAGED",
        ip_address: expect.stringMatching(/google_compute_global_address\.edge_ip_[0-9A-F]+\.address/),
      });
    }
    expect(
      resources(stacks.prod, "google_compute_global_forwarding_rule")
        .map((r) => r.port_range)
        .sort(),
    ).toEqual(["443", "80"]);
  });

  it("terminates TLS with a Google-managed certificate for the domain and redirects http to https", () => {
    expect(one("google_compute_managed_ssl_certificate")).toMatchObject({
      managed: { domains: ["chat.example.com"] },
      lifecycle: { create_before_destroy: true },
    });
    expect(one("google_compute_target_https_proxy")).toMatchObject({
      ssl_certificates: [expect.stringContaining("google_compute_managed_ssl_certificate.edge_certificate")],
      ssl_policy: expect.stringContaining("google_compute_ssl_policy.edge_tls-policy"),
    });
    expect(one("google_compute_ssl_policy")).toMatchObject({ min_tls_version: "TLS_1_2", profile: "MODERN" });
    const redirect = resources(stacks.prod, "google_compute_url_map").find((m) => m.default_url_redirect);
    expect(redirect?.default_url_redirect).toEqual({
      https_redirect: true,
      redirect_response_code: "MOVED_PERMANENTLY_DEFAULT",
      strip_query: false,
    });
    expect(one("google_compute_target_http_proxy").url_map).toMatch(/edge_redirect-url-map/);
  });

  it("bans flooding client IPs and runs the OWASP rules in preview, as listed in the environment data", () => {
    const { armor } = environments.prod.edge;
    type Rule = Record<string, unknown> & { priority: number; match: { expr?: { expression: string } } };
    const rules = one("google_compute_security_policy").rule as Rule[];
    const ban = rules.find((r) => r.action === "rate_based_ban");
    expect(ban).toMatchObject({
      rate_limit_options: {
        enforce_on_key: "IP",
        exceed_action: "deny(429)",
        rate_limit_threshold: { count: armor.rateLimit.count, interval_sec: armor.rateLimit.intervalSec },
        ban_duration_sec: armor.rateLimit.banDurationSec,
      },
    });
    expect(ban?.preview).toBeUndefined();
    const waf = rules.filter((r) => r.match.expr?.expression.includes("evaluatePreconfiguredWaf"));
    expect(
      waf.map((r) => /evaluatePreconfiguredWaf\('([^']+)'/.exec(r.match.expr?.expression ?? "")?.[1]),
    ).toEqual([...armor.wafRules]);
    expect(armor.wafRules).toEqual(expect.arrayContaining(["sqli-v33-stable", "xss-v33-stable"]));
    for (const r of waf) expect(r).toMatchObject({ action: "deny(403)", preview: true });
    expect(rules.at(-1)).toMatchObject({ priority: 2147483647, action: "allow" });
    expect(new Set(rules.map((r) => r.priority)).size).toBe(rules.length);
  });

  it("closes the run.app door, counts two proxy hops and serves, checks and announces the domain", () => {
    const publicService = runService(stacks.prod);
    expect(publicService.ingress).toBe("INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER");
    expect(plainEnv(stacks.prod)).toMatchObject({
      TRUSTED_PROXY_HOPS: "2",
      PUBLIC_URL: "https://chat.example.com",
    });
    // Without the edge Cloud Run's front end is the only proxy.
    expect(plainEnv(stacks.staging).TRUSTED_PROXY_HOPS).toBe("1");
    expect(runService(stacks.staging).ingress).toBe("INGRESS_TRAFFIC_ALL");
    // The worker is untouched: internal, tasks still go to its run.app URL.
    expect(runService(stacks.prod, "switchboard-worker").ingress).toBe("INGRESS_TRAFFIC_INTERNAL_ONLY");
    expect(plainEnv(stacks.prod).WORKER_URL).toBe(WORKER_URL);
    expect(one("google_monitoring_uptime_check_config")).toMatchObject({
      monitored_resource: { labels: { host: "chat.example.com" } },
    });
    expect(stacks.prod.output?.webhook_url?.value).toBe("https://chat.example.com/webhooks/intercom");
    // Texts reach the service through the edge too: Twilio signs exactly this URL (PUBLIC_URL + path).
    expect(stacks.prod.output?.sms_webhook_urls?.value).toEqual({
      twilio: "https://chat.example.com/webhooks/twilio/sms",
      telnyx: "https://chat.example.com/webhooks/telnyx/sms",
      voxie: "https://chat.example.com/webhooks/voxie/sms",
    });
    expect(plainEnv(stacks.prod).PUBLIC_URL).toBe("https://chat.example.com");
    // The worker sends the replies: each names PUBLIC_URL's status path as its delivery-report callback.
    expect(plainEnv(stacks.prod, "switchboard-worker").PUBLIC_URL).toBe("https://chat.example.com");
    expect(stacks.prod.output?.load_balancer_ip?.value).toMatch(
      /google_compute_global_address\.edge_ip_[0-9A-F]+\.address/,
    );
    expect(stacks.staging.output?.load_balancer_ip).toBeUndefined();
  });

  it("stays off without a domain, and refuses a domain for an environment whose edge is off", () => {
    const { domain: _d, ...prodWithout } = exampleSite().environments.prod;
    const site = exampleSite();
    const out = synthAll({ site: { ...site, environments: { ...site.environments, prod: prodWithout } } });
    expect(resources(out.prod, "google_compute_backend_service")).toEqual([]);
    expect(runService(out.prod).ingress).toBe("INGRESS_TRAFFIC_ALL");
    expect(plainEnv(out.prod)).toMatchObject({ TRUSTED_PROXY_HOPS: "1", PUBLIC_URL: RUN_URL });
    expect(() => synthAll({ site: synthSiteWith({ domain: "dev.example.com" }) })).toThrow(
      /environments\.dev\.domain is set.*edge is off for dev/,
    );
  });
});

describe("environment data variants", () => {
  it("omits secret env vars until the secrets have versions (first deploy)", () => {
    const site = { ...synthSiteWith({ secretsReady: false }) };
    const out = synthAll({ site });
    expect(runEnv(out.dev).filter((e) => e.value_source)).toEqual([]);
    expect(resources(out.dev, "google_secret_manager_secret")).toHaveLength(8);
  });

  it("exposes the previous session signing key, pinned, only during a rotation", () => {
    const previous = (
      env: { name: string; value_source?: { secret_key_ref: { secret: string; version: string } } }[],
    ) => env.find((e) => e.name === "SESSION_SIGNING_KEY_PREVIOUS")?.value_source?.secret_key_ref;
    const during = synthAll({ site: synthSiteWith({ previousSessionKeyVersion: 6 }) });
    expect(previous(runEnv(during.dev))).toMatchObject({ version: "6" });
    expect(JSON.stringify(previous(runEnv(during.dev)))).toContain("session-signing-key");
    expect(previous(runEnv(during.staging))).toBeUndefined();
  });

  it("switches Gemini from Vertex AI to an API key secret and GPT-trainer on by data alone", () => {
    // The new secrets are mounted once they have a version and the site lists them (next test).
    const all = [
      ...(exampleSite().environments.dev.secretsReady || []),
      "gemini-api-key",
      "GPT_TRAINER_API_KEY",
    ];
    const out = synthAll({
      site: synthSiteWith({ secretsReady: [...all, "gpt-trainer-chatbot-uuid"] }),
      environments: {
        ...environments,
        dev: {
          ...environments.dev,
          model: { ...environments.dev.model, gemini: "api-key", gptTrainer: true },
        },
      },
    });
    const names = runEnv(out.dev).map((e) => e.name);
    expect(names).toEqual(expect.arrayContaining(["GEMINI_API_KEY", "GPT_TRAINER_API_KEY", "CHATBOT_UUID"]));
    expect(names).not.toContain("GOOGLE_GENAI_USE_VERTEXAI");
    const roles = resources(out.dev, "google_project_iam_member").map((m) => m.role);
    expect(roles).not.toContain("roles/aiplatform.user");
    expect(resources(out.dev, "google_project_service").map((s) => s.service)).not.toContain(
      "aiplatform.googleapis.com",
    );
    expect(resources(out.prod, "google_project_iam_member").map((m) => m.role)).toContain(
      "roles/aiplatform.user",
    );
  });

  it("mounts only the secrets the site lists as having a version; one added later waits for its version", () => {
    const apiKey = {
      ...environments,
      dev: { ...environments.dev, model: { ...environments.dev.model, gemini: "api-key" as const } },
    };
    const before = synthAll({ environments: apiKey });
    // The new secret exists (so it can be given a version) but is not mounted: the revision still starts.
    expect(resources(before.dev, "google_secret_manager_secret").map((x) => x.secret_id)).toContain(
      "gemini-api-key",
    );
    expect(runEnv(before.dev).map((e) => e.name)).not.toContain("GEMINI_API_KEY");
    expect(runEnv(before.dev).filter((e) => e.value_source)).toHaveLength(4);
    const listed = [...(exampleSite().environments.dev.secretsReady || []), "GEMINI_API_KEY"];
    const after = synthAll({ environments: apiKey, site: synthSiteWith({ secretsReady: listed }) });
    expect(runEnv(after.dev).find((e) => e.name === "GEMINI_API_KEY")?.value_source).toMatchObject({
      secret_key_ref: { version: "latest" },
    });
    // A partial list mounts exactly those secrets.
    const partial = synthAll({ site: synthSiteWith({ secretsReady: ["session-signing-key"] }) });
    expect(
      runEnv(partial.dev)
        .filter((e) => e.value_source)
        .map((e) => e.name),
    ).toEqual(["SESSION_SIGNING_KEY"]);
    expect(runEnv(partial.dev).map((e) => e.name)).not.toContain("INTERCOM_ACCESS_TOKEN");
    expect(() => synthAll({ site: synthSiteWith({ secretsReady: ["sesion-signing-key"] }) })).toThrow(
      /environments\.dev\.secretsReady: unknown secret "sesion-signing-key"; known: intercom-access-token/,
    );
  });

  it("skips budgets and billing grants without a billing account", () => {
    const { billingAccount: _omit, ...site } = synthSiteWith({});
    const out = synthAll({ site });
    expect(resources(out.prod, "google_billing_budget")).toEqual([]);
    expect(resources(out.bootstrap, "google_billing_account_iam_member")).toEqual([]);
  });
});

function synthSiteWith(devOverrides: Partial<Site["environments"]["dev"]>): Site {
  const site = exampleSite();
  return {
    ...site,
    environments: { ...site.environments, dev: { ...site.environments.dev, ...devOverrides } },
  };
}

/** `1.11.4` within `>= 1.5.0, < 2.0.0` (the only range form the stacks use). */
function satisfies(version: string, range: string): boolean {
  const num = (v: string) => v.split(".").map(Number) as [number, number, number];
  const cmp = (a: string, b: string) => {
    const [x, y] = [num(a), num(b)];
    for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return (x[i] ?? 0) - (y[i] ?? 0);
    return 0;
  };
  const m = /^>= (\S+), < (\S+)$/.exec(range);
  return Boolean(m?.[1] && m[2] && cmp(version, m[1]) >= 0 && cmp(version, m[2]) < 0);
}
