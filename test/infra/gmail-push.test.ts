import { beforeAll, describe, expect, it } from "vitest";
import { type EnvironmentSpec, environments } from "../../infra/environments";
import { exampleSite } from "../../infra/site";
import { resources, STACK_NAMES, type StackJson, synthAll } from "./helpers";

/** Every environment with the e-mail channel on or off (the data has it on everywhere). */
function emailSetTo(enabled: boolean): Record<keyof typeof environments, EnvironmentSpec> {
  const set = (e: EnvironmentSpec): EnvironmentSpec => ({ ...e, email: { ...e.email, enabled } });
  return { dev: set(environments.dev), staging: set(environments.staging), prod: set(environments.prod) };
}
const emailOn = () => emailSetTo(true);

const GMAIL = "serviceAccount:gmail-api-push@system.gserviceaccount.com";
const PROD_AGENT = "serviceAccount:service-100000000003@gcp-sa-pubsub.iam.gserviceaccount.com";
const PUBSUB_TYPES = [
  "google_pubsub_topic",
  "google_pubsub_subscription",
  "google_pubsub_topic_iam_member",
  "google_pubsub_subscription_iam_member",
];

/** The one resource of a type whose `name` (or `name`-like field) is `name`, with its Terraform address. */
function named(
  stack: StackJson,
  type: string,
  name: string,
): { address: string; config: Record<string, unknown> } {
  const found = Object.entries(stack.resource[type] ?? {}).filter(([, r]) => r.name === name);
  expect(found, `${type} ${name}`).toHaveLength(1);
  const [key, config] = found[0] as [string, Record<string, unknown>];
  return { address: `${type}.${key}`, config };
}

const ref = (address: string, attribute: string) => `\${${address}.${attribute}}`;

describe("Gmail push, off (an organization whose policy forbids Gmail's publisher grant)", () => {
  it("is on in every environment's data", () => {
    for (const name of ["dev", "staging", "prod"] as const)
      expect(environments[name].email.enabled, name).toBe(true);
  });

  it("creates no Pub/Sub resource, push identity, renewal job, OAuth secret, API or output anywhere", () => {
    const stacks = synthAll({ environments: emailSetTo(false) });
    for (const name of STACK_NAMES) {
      const stack = stacks[name];
      for (const type of PUBSUB_TYPES) expect(stack.resource[type], `${name} ${type}`).toBeUndefined();
      // The dead-letter alert policy is data for every environment (policies/): with nothing to watch it
      // never fires, so it is the one mention of Gmail left.
      const { google_monitoring_alert_policy: _policies, ...others } = stack.resource;
      const text = JSON.stringify({ ...stack, resource: others });
      expect(text).not.toContain("gmail");
      expect(text).not.toContain("pubsub.googleapis.com");
      expect(stack.output?.gmail_push).toBeUndefined();
    }
  });
});

describe("Gmail push, on", () => {
  let on: Record<(typeof STACK_NAMES)[number], StackJson>;
  beforeAll(() => {
    on = synthAll({ environments: emailOn() });
  });

  it("creates the notifications topic, and grants Gmail's identity publisher on that topic and nothing else", () => {
    const topic = named(on.prod, "google_pubsub_topic", "switchboard-gmail-push");
    expect(topic.config.labels).toMatchObject({ app: "switchboard", env: "prod" });
    const gmailGrants = Object.values(on.prod.resource)
      .flatMap((byName) => Object.values(byName))
      .filter((r) => r.member === GMAIL || (Array.isArray(r.members) && r.members.includes(GMAIL)));
    expect(gmailGrants.map(({ "//": _m, depends_on: _d, ...r }) => r)).toEqual([
      {
        project: "switchboard-prod-000000",
        topic: ref(topic.address, "name"),
        role: "roles/pubsub.publisher",
        member: GMAIL,
      },
    ]);
  });

  it("pushes to the public URL (the edge's domain in prod) with the push identity's OIDC token and a pinned audience", () => {
    const topic = named(on.prod, "google_pubsub_topic", "switchboard-gmail-push");
    const identity = Object.entries(on.prod.resource.google_service_account ?? {}).find(
      ([, a]) => a.account_id === "switchboard-gmail-push",
    );
    expect(identity).toBeDefined();
    const identityAddress = `google_service_account.${identity?.[0]}`;
    const dead = named(on.prod, "google_pubsub_topic", "switchboard-gmail-push-dead-letter");
    const push = named(on.prod, "google_pubsub_subscription", "switchboard-gmail-push").config;
    const url = "https://chat.example.com/webhooks/email/gmail-push";
    expect(push).toMatchObject({
      topic: ref(topic.address, "id"),
      push_config: {
        push_endpoint: url,
        oidc_token: { service_account_email: ref(identityAddress, "email"), audience: url },
      },
      ack_deadline_seconds: environments.prod.email.push.ackDeadlineSeconds,
      retry_policy: { minimum_backoff: "10s", maximum_backoff: "600s" },
      dead_letter_policy: { dead_letter_topic: ref(dead.address, "id"), max_delivery_attempts: 10 },
      message_retention_duration: "604800s",
      // A quiet mailbox must not let the subscription expire after 31 idle days.
      expiration_policy: { ttl: "" },
    });
    // Without the edge (dev), Pub/Sub pushes to the public service's run.app URL.
    const devPush = named(on.dev, "google_pubsub_subscription", "switchboard-gmail-push").config;
    expect(devPush.push_config).toMatchObject({
      push_endpoint: "https://switchboard-100000000001.europe-west1.run.app/webhooks/email/gmail-push",
      oidc_token: {
        audience: "https://switchboard-100000000001.europe-west1.run.app/webhooks/email/gmail-push",
      },
    });
  });

  it("gives the push identity no role, and Pub/Sub's service agent exactly what minting tokens and dead-lettering need", () => {
    const identity = Object.entries(on.prod.resource.google_service_account ?? {}).find(
      ([, a]) => a.account_id === "switchboard-gmail-push",
    );
    const identityAddress = `google_service_account.${identity?.[0]}`;
    const pushEmail = ref(identityAddress, "email");
    // The push identity holds nothing: its token only says who is calling.
    const held = Object.values(on.prod.resource)
      .flatMap((byName) => Object.values(byName))
      .filter((r) => typeof r.member === "string" && r.member.includes(pushEmail));
    expect(held).toEqual([]);

    const dead = named(on.prod, "google_pubsub_topic", "switchboard-gmail-push-dead-letter");
    const push = named(on.prod, "google_pubsub_subscription", "switchboard-gmail-push");
    const agentGrants = Object.entries(on.prod.resource)
      .flatMap(([type, byName]) => Object.values(byName).map((r) => ({ type, r })))
      .filter(({ r }) => r.member === PROD_AGENT)
      .map(({ type, r }) => ({
        type,
        role: r.role,
        on: r.topic ?? r.subscription ?? r.service_account_id,
      }));
    expect(agentGrants).toEqual(
      expect.arrayContaining([
        {
          type: "google_service_account_iam_member",
          role: "roles/iam.serviceAccountTokenCreator",
          on: ref(identityAddress, "name"),
        },
        {
          type: "google_pubsub_topic_iam_member",
          role: "roles/pubsub.publisher",
          on: ref(dead.address, "name"),
        },
        {
          type: "google_pubsub_subscription_iam_member",
          role: "roles/pubsub.subscriber",
          on: ref(push.address, "name"),
        },
      ]),
    );
    expect(agentGrants).toHaveLength(3);
    // The deploy identity may act as the push identity (creating an OIDC push needs actAs), and the
    // subscription waits for that and for the agent's grants.
    const actAs = Object.entries(on.prod.resource.google_service_account_iam_member ?? {}).filter(
      ([, g]) => g.service_account_id === ref(identityAddress, "name"),
    );
    expect(actAs.map(([, g]) => g.role).sort()).toEqual([
      "roles/iam.serviceAccountTokenCreator",
      "roles/iam.serviceAccountUser",
    ]);
    expect(push.config.depends_on).toEqual(
      expect.arrayContaining(actAs.map(([key]) => `google_service_account_iam_member.${key}`)),
    );
  });

  it("keeps dead letters in a pull subscription on the dead-letter topic", () => {
    const dead = named(on.prod, "google_pubsub_topic", "switchboard-gmail-push-dead-letter");
    const kept = named(on.prod, "google_pubsub_subscription", "switchboard-gmail-push-dead-letter").config;
    expect(kept).toMatchObject({
      topic: ref(dead.address, "id"),
      message_retention_duration: "604800s",
      expiration_policy: { ttl: "" },
    });
    expect(kept.push_config).toBeUndefined();
    expect(resources(on.prod, "google_pubsub_subscription")).toHaveLength(2);
    expect(resources(on.prod, "google_pubsub_topic")).toHaveLength(2);
  });

  it("renews the watches daily on the worker with the invoker's OIDC token, unpaused", () => {
    const job = named(on.prod, "google_cloud_scheduler_job", "switchboard-gmail-watch-renewal").config;
    const invoker = Object.entries(on.prod.resource.google_service_account ?? {}).find(
      ([, a]) => a.account_id === "switchboard-invoker",
    );
    const worker = "https://switchboard-worker-100000000003.europe-west1.run.app";
    expect(job).toMatchObject({
      schedule: environments.prod.email.watchRenewal.schedule,
      paused: false,
      http_target: {
        uri: `${worker}/internal/email/renew-watches`,
        http_method: "POST",
        oidc_token: {
          service_account_email: ref(`google_service_account.${invoker?.[0]}`, "email"),
          audience: worker,
        },
      },
    });
    expect(environments.prod.email.watchRenewal.schedule).toMatch(/^\d+ \d+ \* \* \*$/);
  });

  it("enables Pub/Sub and Gmail, and creates the OAuth client secrets, mounted once the site lists them", () => {
    const apis = resources(on.prod, "google_project_service").map((s) => s.service);
    expect(apis).toEqual(expect.arrayContaining(["pubsub.googleapis.com", "gmail.googleapis.com"]));
    const secretIds = resources(on.prod, "google_secret_manager_secret").map((s) => s.secret_id);
    expect(secretIds).toEqual(expect.arrayContaining(["gmail-oauth-client-id", "gmail-oauth-client-secret"]));
    const envNames = (stack: StackJson) =>
      (
        (
          resources(stack, "google_cloud_run_v2_service")[0]?.template as {
            containers: { env: { name: string }[] }[];
          }
        ).containers[0]?.env ?? []
      ).map((e) => e.name);
    // Not listed in secretsReady: the secrets exist (to be given versions) but no revision reads them.
    expect(envNames(on.prod)).not.toContain("GOOGLE_OAUTH_CLIENT_ID");
    const site = exampleSite();
    const listed = [
      ...(site.environments.prod.secretsReady || []),
      "gmail-oauth-client-id",
      "GOOGLE_OAUTH_CLIENT_SECRET",
    ];
    const ready = synthAll({
      environments: emailOn(),
      site: {
        ...site,
        environments: { ...site.environments, prod: { ...site.environments.prod, secretsReady: listed } },
      },
    });
    expect(envNames(ready.prod)).toEqual(
      expect.arrayContaining(["GOOGLE_OAUTH_CLIENT_ID", "GOOGLE_OAUTH_CLIENT_SECRET"]),
    );
  });

  it("tells both services the watch topic and the audience and e-mail of push tokens, and outputs them", () => {
    const topic = named(on.prod, "google_pubsub_topic", "switchboard-gmail-push");
    const identity = Object.entries(on.prod.resource.google_service_account ?? {}).find(
      ([, a]) => a.account_id === "switchboard-gmail-push",
    );
    expect(on.prod.output?.gmail_push?.value).toEqual({
      topic: ref(topic.address, "id"),
      GMAIL_PUSH_AUDIENCE: "https://chat.example.com/webhooks/email/gmail-push",
      GMAIL_PUSH_SERVICE_ACCOUNT: ref(`google_service_account.${identity?.[0]}`, "email"),
    });
    for (const service of resources(on.prod, "google_cloud_run_v2_service")) {
      const env = (service.template as { containers: { env: { name: string; value?: string }[] }[] })
        .containers[0]?.env;
      const value = (name: string) => env?.find((e) => e.name === name)?.value;
      expect(value("GMAIL_PUBSUB_TOPIC")).toBe(ref(topic.address, "id"));
      expect(value("GMAIL_PUSH_AUDIENCE")).toBe("https://chat.example.com/webhooks/email/gmail-push");
      expect(value("GMAIL_PUSH_SERVICE_ACCOUNT")).toBe(
        ref(`google_service_account.${identity?.[0]}`, "email"),
      );
    }
  });
});
