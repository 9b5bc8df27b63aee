import { EventEmitter } from "node:events";
import { Readable, Writable } from "node:stream";
import { SecretManagerServiceClient } from "@google-cloud/secret-manager";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import {
  crc32c,
  parseArgs,
  parseDuration,
  runCommand,
  type SecretDefinition,
  SecretsCliError,
  type SecretsContext,
} from "../../scripts/secrets-core";
import { crc32c as emulatorCrc32c } from "../emulators/google-rest";
import {
  type SecretManagerEmulator,
  secretManagerClientOptions,
  startSecretManagerEmulator,
} from "../emulators/secret-manager";

/** The secrets CLI's core driven through the real client against the Secret Manager REST emulator. */

const PROJECT = "switchboard-staging-000000";

// The shape and ids of infra/environments.ts `secretsFor` for an environment on Vertex AI.
const SECRETS: SecretDefinition[] = [
  { id: "intercom-access-token", envVar: "INTERCOM_ACCESS_TOKEN", description: "Intercom access token" },
  { id: "intercom-webhook-secret", envVar: "INTERCOM_WEBHOOK_SECRET", description: "Intercom client secret" },
  { id: "session-signing-key", envVar: "SESSION_SIGNING_KEY", description: "Signs web chat session tokens" },
  { id: "admin-api-key", envVar: "ADMIN_API_KEY", description: "Key of the admin API" },
  { id: "jwt-secret", envVar: "JWT_SECRET", description: "Secret of JWTs" },
  { id: "smtp-url", envVar: "SMTP_URL", description: "SMTP relay of team notifications" },
  { id: "gmail-oauth-client-id", envVar: "GOOGLE_OAUTH_CLIENT_ID", description: "Google OAuth client id" },
  {
    id: "gmail-oauth-client-secret",
    envVar: "GOOGLE_OAUTH_CLIENT_SECRET",
    description: "Google OAuth secret",
  },
];

let sm: SecretManagerEmulator;
let client: SecretManagerServiceClient;

beforeAll(async () => {
  sm = await startSecretManagerEmulator();
  client = new SecretManagerServiceClient(secretManagerClientOptions(sm));
});
afterEach(() => sm.reset());
afterAll(async () => {
  await client.close();
  await sm.close();
});

class Capture extends Writable {
  text = "";
  override _write(chunk: Buffer, _enc: string, done: () => void) {
    this.text += chunk.toString("utf8");
    done();
  }
}

function context(stdin: SecretsContext["stdin"] = Readable.from([]), now?: Date) {
  const stdout = new Capture();
  const stderr = new Capture();
  const ctx: SecretsContext = {
    client,
    projectId: PROJECT,
    secrets: SECRETS,
    stdin,
    stdout,
    stderr,
    ...(now ? { now: () => now } : {}),
  };
  return { ctx, stdout, stderr };
}

const piped = (text: string) => Readable.from([Buffer.from(text, "utf8")]);
const run = (ctx: SecretsContext, ...argv: string[]) => runCommand(ctx, parseArgs(argv));

/** Every secret the stack creates, each with no version (what `cdktf deploy` leaves behind). */
async function createAll(ids = SECRETS.map((s) => s.id)) {
  for (const secretId of ids) {
    await client.createSecret({
      parent: `projects/${PROJECT}`,
      secretId,
      secret: { replication: { automatic: {} } },
    });
  }
}

describe("status", () => {
  test("lists every secret of the stack with its state; exit 1 until all have an enabled version", async () => {
    await createAll(SECRETS.filter((s) => s.id !== "admin-api-key").map((s) => s.id));
    sm.setSecret(PROJECT, "intercom-access-token", "tok-1");
    sm.setSecret(PROJECT, "intercom-access-token", "tok-2");
    sm.setSecret(PROJECT, "session-signing-key", "k".repeat(43));
    sm.setVersionState(PROJECT, "session-signing-key", 1, "DISABLED");
    sm.setSecret(PROJECT, "intercom-webhook-secret", "whsec");

    const { ctx, stdout } = context();
    expect(await run(ctx, "status", "staging")).toBe(1);
    const lines = stdout.text.split("\n");
    const row = (id: string) => lines.find((l) => l.startsWith(`${id} `)) ?? "";
    expect(row("intercom-access-token")).toMatch(/INTERCOM_ACCESS_TOKEN\s+ok\s+v2 /);
    expect(row("intercom-webhook-secret")).toMatch(/\bok\s+v1 /);
    expect(row("session-signing-key")).toContain("NO ENABLED VERSION");
    expect(row("jwt-secret")).toContain("NO VERSION");
    expect(row("admin-api-key")).toContain("MISSING");
    expect(stdout.text).toContain(`project ${PROJECT}`);
    expect(stdout.text).toContain("2 of 8 ready.");
    // What to put in the site so that exactly the secrets with a version are mounted.
    expect(stdout.text).toContain(
      'secretsReady for infra/site.json: ["intercom-access-token","intercom-webhook-secret"]',
    );
    // Never prints a value.
    expect(stdout.text).not.toMatch(/tok-1|tok-2|whsec/);
  });

  test("exit 0 when every secret is ready", async () => {
    for (const s of SECRETS) sm.setSecret(PROJECT, s.id, `value-of-${s.id}`);
    const { ctx, stdout } = context();
    expect(await run(ctx, "status", "staging")).toBe(0);
    expect(stdout.text).toContain("8 of 8 ready.");
  });
});

describe("set", () => {
  test("adds a version with the value from standard input (trailing newline dropped, checksum sent)", async () => {
    await createAll();
    const { ctx, stdout } = context(piped("dG9rZW4tdmFsdWU=\n"));
    expect(await run(ctx, "set", "staging", "INTERCOM_ACCESS_TOKEN")).toBe(0);
    const [version] = sm.versions(PROJECT, "intercom-access-token");
    expect(version?.value).toBe("dG9rZW4tdmFsdWU=");
    expect(version?.clientSpecifiedPayloadChecksum).toBe(true);
    expect(stdout.text).toContain("added version 1");
    expect(stdout.text).not.toContain("dG9rZW4tdmFsdWU=");
    const add = sm.requests.find((r) => r.path.endsWith(":addVersion"));
    expect(add?.method).toBe("POST");
  });

  test("keeps inner newlines and whitespace of multi-line values", async () => {
    await createAll();
    const { ctx } = context(piped("line one\n  line two\n"));
    await run(ctx, "set", "staging", "jwt-secret");
    expect(sm.versions(PROJECT, "jwt-secret")[0]?.value).toBe("line one\n  line two");
  });

  test("refuses an empty value and stores nothing", async () => {
    await createAll();
    for (const input of ["", "\n"]) {
      const { ctx } = context(piped(input));
      await expect(run(ctx, "set", "staging", "intercom-webhook-secret")).rejects.toThrow(/empty value/);
    }
    expect(sm.versions(PROJECT, "intercom-webhook-secret")).toHaveLength(0);
  });

  test("never takes the value from the command line", () => {
    expect(() => parseArgs(["set", "staging", "intercom-access-token", "s3cret-token"])).toThrow(
      /never from the command line/,
    );
  });

  test("refuses names the stack does not define, and secrets the stack has not created yet", async () => {
    const { ctx } = context(piped("x"));
    await expect(run(ctx, "set", "staging", "intercom-acess-token")).rejects.toThrow(/not a secret of this/);
    await expect(run(ctx, "set", "staging", "intercom-access-token")).rejects.toThrow(
      /apply the environment/,
    );
  });

  test("on a terminal: a prompt on stderr, no echo, backspace honoured", async () => {
    await createAll();
    const tty = Object.assign(new EventEmitter(), {
      isTTY: true,
      rawMode: [] as boolean[],
      setRawMode(mode: boolean) {
        tty.rawMode.push(mode);
      },
      resume() {
        setImmediate(() => tty.emit("data", Buffer.from("hunter22\u007f2-secret\r")));
      },
      pause() {},
    });
    const { ctx, stderr } = context(tty as unknown as SecretsContext["stdin"]);
    await run(ctx, "set", "staging", "admin-api-key");
    expect(sm.versions(PROJECT, "admin-api-key")[0]?.value).toBe("hunter22-secret");
    expect(stderr.text).toContain("ADMIN_API_KEY");
    expect(stderr.text).toContain("input hidden");
    expect(stderr.text).not.toContain("hunter");
    expect(tty.rawMode).toEqual([true, false]);
  });

  test("--generate stores a fresh random key of at least 32 characters", async () => {
    await createAll();
    const { ctx } = context();
    await run(ctx, "set", "staging", "jwt-secret", "--generate");
    await run(ctx, "set", "staging", "jwt-secret", "--generate");
    const [a, b] = sm.versions(PROJECT, "jwt-secret");
    expect(a?.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(b?.value).not.toBe(a?.value);
  });
});

describe("rotate session-signing-key", () => {
  test("adds a new random key as the latest version and keeps the previous one enabled", async () => {
    sm.setSecret(PROJECT, "session-signing-key", "old-key-".repeat(6));
    const { ctx, stdout } = context();
    expect(await run(ctx, "rotate", "staging", "session-signing-key")).toBe(0);
    const [v1, v2] = sm.versions(PROJECT, "session-signing-key");
    expect(v1?.state).toBe("ENABLED");
    expect(v2?.state).toBe("ENABLED");
    expect(v2?.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(v2?.value).not.toBe(v1?.value);
    expect(stdout.text).toContain("version 2 is the new signing key");
    expect(stdout.text).toContain("Version 1 stays enabled");
    expect(stdout.text).not.toContain(v2?.value ?? "?");
  });

  test("applies to the session signing key only", async () => {
    sm.setSecret(PROJECT, "intercom-access-token", "t");
    const { ctx } = context();
    await expect(run(ctx, "rotate", "staging", "intercom-access-token")).rejects.toThrow(
      /session-signing-key only/,
    );
    expect(sm.versions(PROJECT, "intercom-access-token")).toHaveLength(1);
  });
});

describe("prune --older-than", () => {
  async function threeVersions() {
    for (const n of [1, 2, 3]) sm.setSecret(PROJECT, "session-signing-key", `key-${n}-`.repeat(8));
    const versions = sm.versions(PROJECT, "session-signing-key");
    return versions.map((v) => new Date(v.createTime).getTime());
  }

  test("after the grace period: disables superseded versions, never the latest, destroys nothing", async () => {
    const [, , t3 = 0] = await threeVersions();
    const { ctx, stdout } = context(undefined, new Date(t3 + 8 * 86_400_000));
    expect(await run(ctx, "prune", "staging", "session-signing-key", "--older-than", "7d")).toBe(0);
    expect(sm.versions(PROJECT, "session-signing-key").map((v) => v.state)).toEqual([
      "DISABLED",
      "DISABLED",
      "ENABLED",
    ]);
    expect(stdout.text).toContain("disabled version(s) 2, 1");
  });

  test("within the grace period: nothing changes; --dry-run only reports", async () => {
    const [, , t3 = 0] = await threeVersions();
    const soon = context(undefined, new Date(t3 + 3_600_000));
    await run(soon.ctx, "prune", "staging", "session-signing-key", "--older-than=7d");
    expect(soon.stdout.text).toContain("nothing to disable");
    const later = context(undefined, new Date(t3 + 30 * 86_400_000));
    await run(later.ctx, "prune", "staging", "session-signing-key", "--older-than", "7d", "--dry-run");
    expect(later.stdout.text).toContain("would disable version(s) 2, 1");
    expect(sm.versions(PROJECT, "session-signing-key").every((v) => v.state === "ENABLED")).toBe(true);
  });

  test("requires the grace period", async () => {
    const { ctx } = context();
    await expect(run(ctx, "prune", "staging", "session-signing-key")).rejects.toThrow(/--older-than/);
  });
});

describe("arguments", () => {
  test("durations", () => {
    expect(parseDuration("90s")).toBe(90_000);
    expect(parseDuration("30m")).toBe(1_800_000);
    expect(parseDuration("1d12h")).toBe(129_600_000);
    expect(parseDuration("2w")).toBe(14 * 86_400_000);
    for (const bad of ["", "7", "7 days", "-1d", "1y"])
      expect(() => parseDuration(bad)).toThrow(SecretsCliError);
  });

  test("unknown commands and options are refused; help prints the usage", async () => {
    expect(() => parseArgs(["delete", "prod", "x"])).toThrow(/unknown command/);
    expect(() => parseArgs(["status", "prod", "--force"])).toThrow(/unknown option/);
    expect(parseArgs(["status", "prod", "--project", "p-1"]).project).toBe("p-1");
    const { ctx, stdout } = context();
    expect(await run(ctx, "--help")).toBe(0);
    expect(stdout.text).toContain("Usage: npm run secrets");
  });

  test("the checksum matches Secret Manager's CRC32C", () => {
    for (const text of ["", "a", "The quick brown fox", "ünïcödé"]) {
      expect(crc32c(Buffer.from(text))).toBe(emulatorCrc32c(Buffer.from(text)));
    }
  });
});

describe("the npm run secrets wrapper", () => {
  test("this suite's secret list is what the staging stack defines (infra/environments.ts)", async () => {
    const { environments, secretsFor } = await import("../../infra/environments");
    expect(secretsFor(environments.staging).map((s) => [s.id, s.envVar])).toEqual(
      SECRETS.map((s) => [s.id, s.envVar]),
    );
    for (const name of ["dev", "staging", "prod"] as const) {
      expect(secretsFor(environments[name]).map((s) => s.id)).toContain("session-signing-key");
    }
  });

  test("argument errors exit 2 with a message before any cloud call; help exits 0", async () => {
    const { execFile } = await import("node:child_process");
    const cli = (...argv: string[]) =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = execFile(
          process.execPath,
          ["--import", "tsx", "scripts/secrets-cli.ts", ...argv],
          { env: { PATH: process.env.PATH ?? "", SWITCHBOARD_SITE: "example" } },
          (_error, stdout, stderr) => resolve({ code: child.exitCode, out: `${stdout}${stderr}` }),
        );
      });
    const help = await cli("--help");
    expect(help.code).toBe(0);
    expect(help.out).toContain("Usage: npm run secrets");
    const typed = await cli("set", "staging", "intercom-access-token", "s3cret");
    expect(typed.code).toBe(2);
    expect(typed.out).toContain("never from the command line");
    expect(typed.out).not.toMatch(/at .+\.ts:\d+/);
    const env = await cli("status", "qa");
    expect(env.code).toBe(2);
    expect(env.out).toContain("<env> must be one of dev, staging, prod");
  });
});
