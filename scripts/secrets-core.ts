/**
 * The secrets CLI without its argv wrapper: every command takes a Secret Manager client, the project, the
 * secrets the environment's stack defines, and the streams, so tests drive it against the REST emulator.
 *
 * The stack (infra) creates the secrets; this only manages their versions. Values come from standard input,
 * never from the command line (argv lands in shell history and `ps`).
 */
import { randomBytes } from "node:crypto";
import type { Readable, Writable } from "node:stream";
import type { SecretManagerServiceClient } from "@google-cloud/secret-manager";

/** The shape of `infra/environments.ts` SecretSpec: one secret, one env var of the service. */
export interface SecretDefinition {
  readonly id: string;
  readonly envVar: string;
  readonly description: string;
}

export const SESSION_SIGNING_KEY_ID = "session-signing-key";

/** The methods used, so a test double needs only these (the real client satisfies it). */
export type SecretClient = Pick<
  SecretManagerServiceClient,
  "getSecret" | "listSecretVersions" | "addSecretVersion" | "accessSecretVersion" | "disableSecretVersion"
>;

export interface SecretsContext {
  readonly client: SecretClient;
  readonly projectId: string;
  readonly secrets: readonly SecretDefinition[];
  readonly stdin: Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  readonly stdout: Writable;
  readonly stderr: Writable;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

export type VersionState = "ENABLED" | "DISABLED" | "DESTROYED" | "STATE_UNSPECIFIED";

export interface VersionInfo {
  /** Version number. */
  readonly version: number;
  readonly state: VersionState;
  readonly createTime: Date;
}

export interface SecretStatus {
  readonly secret: SecretDefinition;
  /** `missing`: the stack has not created it; `empty`: no version; `disabled`: no enabled version. */
  readonly state: "ok" | "missing" | "empty" | "disabled";
  /** Newest first. */
  readonly versions: readonly VersionInfo[];
  readonly latestEnabled: VersionInfo | undefined;
}

export class SecretsCliError extends Error {
  override readonly name = "SecretsCliError";
}

// ---- Secret Manager plumbing ------------------------------------------------------------------------

const STATES: readonly VersionState[] = ["STATE_UNSPECIFIED", "ENABLED", "DISABLED", "DESTROYED"];

/** The client returns enum names or numbers, and Timestamps with Long, string or number seconds. */
function toVersionInfo(v: { name?: string | null; state?: unknown; createTime?: unknown }): VersionInfo {
  const version = Number(/\/versions\/(\d+)$/.exec(v.name ?? "")?.[1] ?? Number.NaN);
  const state = typeof v.state === "number" ? (STATES[v.state] ?? "STATE_UNSPECIFIED") : String(v.state);
  const ts = (v.createTime ?? {}) as { seconds?: unknown; nanos?: unknown };
  const createTime = new Date(Number(ts.seconds ?? 0) * 1000 + Math.floor(Number(ts.nanos ?? 0) / 1e6));
  return { version, state: state as VersionState, createTime };
}

/** gRPC errors carry `code` 5; REST fallback errors carry the HTTP status 404 (see test/emulators). */
function isNotFound(error: unknown): boolean {
  const e = error as { code?: unknown; status?: unknown; message?: unknown };
  return e.code === 5 || e.code === 404 || e.status === 404 || /NOT_FOUND/.test(String(e.message));
}

function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  try {
    const body = JSON.parse(message) as { error?: { status?: string; message?: string } };
    if (body.error?.message) return `${body.error.status ?? "error"}: ${body.error.message}`;
  } catch {
    // Not a JSON error body (gRPC transport): the message is already readable.
  }
  return message;
}

const secretName = (ctx: SecretsContext, id: string) => `projects/${ctx.projectId}/secrets/${id}`;

async function listVersions(ctx: SecretsContext, id: string): Promise<VersionInfo[]> {
  const [versions] = await ctx.client.listSecretVersions({ parent: secretName(ctx, id) });
  return versions.map(toVersionInfo).sort((a, b) => b.version - a.version);
}

/** CRC32C (Castagnoli) of the payload: Secret Manager verifies it, so a corrupted upload is refused. */
const CRC32C_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = (CRC32C_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

async function addVersion(ctx: SecretsContext, id: string, value: string): Promise<VersionInfo> {
  const data = Buffer.from(value, "utf8");
  const [version] = await ctx.client.addSecretVersion({
    parent: secretName(ctx, id),
    payload: { data, dataCrc32c: crc32c(data) },
  });
  return toVersionInfo(version);
}

// ---- names, durations, input ------------------------------------------------------------------------

/** A secret of the stack by id (`intercom-access-token`) or by env var (`INTERCOM_ACCESS_TOKEN`). */
export function resolveSecret(ctx: SecretsContext, name: string): SecretDefinition {
  const found = ctx.secrets.find((s) => s.id === name || s.envVar === name);
  if (!found) {
    throw new SecretsCliError(
      `"${name}" is not a secret of this environment's stack. Known: ${ctx.secrets.map((s) => s.id).join(", ")}`,
    );
  }
  return found;
}

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `90s`, `30m`, `24h`, `7d`, `2w` (or combinations like `1d12h`) in milliseconds. */
export function parseDuration(text: string): number {
  const parts = [...text.trim().matchAll(/(\d+)\s*([smhdw])/g)];
  const consumed = parts.map((p) => p[0]).join("");
  if (parts.length === 0 || consumed.replace(/\s/g, "") !== text.trim().replace(/\s/g, "")) {
    throw new SecretsCliError(`"${text}" is not a duration (examples: 30m, 24h, 7d)`);
  }
  return parts.reduce((ms, [, n, unit]) => ms + Number(n) * (UNITS[unit ?? ""] ?? 0), 0);
}

/**
 * The secret value from standard input. On a terminal: a prompt on stderr and no echo. Piped: the whole
 * input, minus one trailing newline (what `echo` and most editors add). An empty value is refused.
 */
export async function readSecretValue(ctx: SecretsContext, label: string): Promise<string> {
  const value = ctx.stdin.isTTY ? await readHidden(ctx, label) : await readAll(ctx.stdin);
  const trimmed = value.replace(/\r?\n$/, "");
  if (trimmed.length === 0) {
    throw new SecretsCliError(
      ctx.stdin.isTTY
        ? "empty value: nothing was stored"
        : "empty value on standard input: pipe the value in, e.g. `pbpaste | npm run secrets -- set …`; nothing was stored",
    );
  }
  return trimmed;
}

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString("utf8");
}

function readHidden(ctx: SecretsContext, label: string): Promise<string> {
  const { stdin, stderr } = ctx;
  stderr.write(`${label} (input hidden, Enter to finish): `);
  return new Promise((resolve, reject) => {
    let value = "";
    const done = (error?: Error) => {
      stdin.setRawMode?.(false);
      stdin.off("data", onData);
      stdin.pause();
      stderr.write("\n");
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of chunk.toString("utf8")) {
        if (ch === "\r" || ch === "\n" || ch === "\u0004") return done();
        if (ch === "\u0003") return done(new SecretsCliError("cancelled"));
        if (ch === "\u007f" || ch === "\b") value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.setRawMode?.(true);
    stdin.resume();
    stdin.on("data", onData);
  });
}

/** 32 random bytes, base64url: 43 characters, above the service's 32-character minimum. */
export function generateKey(): string {
  return randomBytes(32).toString("base64url");
}

// ---- commands ---------------------------------------------------------------------------------------

export async function secretStatus(ctx: SecretsContext): Promise<SecretStatus[]> {
  return Promise.all(
    ctx.secrets.map(async (secret): Promise<SecretStatus> => {
      let versions: VersionInfo[];
      try {
        versions = await listVersions(ctx, secret.id);
      } catch (error) {
        if (isNotFound(error)) return { secret, state: "missing", versions: [], latestEnabled: undefined };
        throw new SecretsCliError(`${secret.id}: ${describeError(error)}`);
      }
      const latestEnabled = versions.find((v) => v.state === "ENABLED");
      const state = versions.length === 0 ? "empty" : latestEnabled ? "ok" : "disabled";
      return { secret, state, versions, latestEnabled };
    }),
  );
}

export function formatStatus(rows: readonly SecretStatus[], projectId: string): string {
  const label: Record<SecretStatus["state"], string> = {
    ok: "ok",
    missing: "MISSING (apply the stack)",
    empty: "NO VERSION (set it)",
    disabled: "NO ENABLED VERSION",
  };
  const table = rows.map((r) => {
    const enabled = r.versions.filter((v) => v.state === "ENABLED");
    return [
      r.secret.id,
      r.secret.envVar,
      label[r.state],
      r.latestEnabled
        ? `v${r.latestEnabled.version} (${r.latestEnabled.createTime.toISOString().slice(0, 16)}Z)`
        : "-",
      enabled.length > 1 ? `+${enabled.length - 1} older enabled` : "-",
      r.secret.description,
    ];
  });
  const header = ["SECRET", "ENV VAR", "STATE", "LATEST ENABLED", "GRACE", "DESCRIPTION"];
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => (row[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  const ready = rows.filter((r) => r.state === "ok").map((r) => r.secret.id);
  return [
    `Secrets of project ${projectId}:`,
    line(header),
    ...table.map(line),
    "",
    `${ready.length} of ${rows.length} ready.`,
    // Only listed secrets are mounted (a revision whose secret has no version cannot start).
    `secretsReady for infra/site.json: ${JSON.stringify(ready)}`,
    "",
  ].join("\n");
}

export interface SetOptions {
  /** Store a fresh random key instead of reading standard input. */
  readonly generate?: boolean;
}

/** Adds a version holding the value from standard input (or a generated key); the secret must exist. */
export async function setSecret(
  ctx: SecretsContext,
  name: string,
  opts: SetOptions = {},
): Promise<VersionInfo> {
  const secret = resolveSecret(ctx, name);
  try {
    await ctx.client.getSecret({ name: secretName(ctx, secret.id) });
  } catch (error) {
    if (isNotFound(error)) {
      throw new SecretsCliError(
        `secret ${secret.id} does not exist in ${ctx.projectId}: apply the environment's stack first (cdktf deploy)`,
      );
    }
    throw new SecretsCliError(`${secret.id}: ${describeError(error)}`);
  }
  const value = opts.generate
    ? generateKey()
    : await readSecretValue(ctx, `${secret.envVar} for ${ctx.projectId}`);
  const added = await addVersion(ctx, secret.id, value);
  ctx.stdout.write(`${secret.id}: added version ${added.version} (${secret.envVar}).\n`);
  ctx.stdout.write(
    "Running instances keep the value they started with; new instances read it. Roll a new revision to apply it everywhere (docs/runbook.md).\n",
  );
  return added;
}

export interface RotateResult {
  readonly current: VersionInfo;
  /** The version that signed until now; still enabled so tokens it signed keep verifying. */
  readonly previous: VersionInfo | undefined;
}

/**
 * Rotates the session signing key: a new random key becomes the latest version; the previous version stays
 * enabled for the grace period, so the service can keep verifying the tokens it signed (it signs with the
 * latest and verifies with the latest and the previous, see docs/runbook.md). `prune` disables it later.
 */
export async function rotateSigningKey(ctx: SecretsContext, name: string): Promise<RotateResult> {
  const secret = resolveSecret(ctx, name);
  if (secret.id !== SESSION_SIGNING_KEY_ID) {
    throw new SecretsCliError(
      `rotate generates keys and applies to ${SESSION_SIGNING_KEY_ID} only; use \`set\` for ${secret.id} (its value comes from the vendor)`,
    );
  }
  const before = await listVersions(ctx, secret.id).catch((error: unknown) => {
    if (isNotFound(error)) {
      throw new SecretsCliError(
        `secret ${secret.id} does not exist in ${ctx.projectId}: apply the stack first`,
      );
    }
    throw new SecretsCliError(`${secret.id}: ${describeError(error)}`);
  });
  const previous = before.find((v) => v.state === "ENABLED");
  const current = await addVersion(ctx, secret.id, generateKey());
  ctx.stdout.write(
    [
      `${secret.id}: version ${current.version} is the new signing key.`,
      previous
        ? `Version ${previous.version} stays enabled so sessions it signed keep working (SESSION_SIGNING_KEY_PREVIOUS).`
        : "There was no enabled version before: nothing to keep for a grace period.",
      "Next: roll a new revision so every instance loads the new key, then after the grace period (the session",
      `token lifetime) run: npm run secrets -- prune <env> ${secret.id} --older-than <grace>`,
      "",
    ].join("\n"),
  );
  return { current, previous };
}

export interface PruneOptions {
  /** Superseded versions are disabled once they were superseded at least this long ago. */
  readonly olderThanMs: number;
  /** Only report what would be disabled. */
  readonly dryRun?: boolean;
}

/**
 * Disables enabled versions that were superseded (a newer version exists) more than `olderThan` ago. The
 * latest version is never touched, and disabling is reversible (`gcloud secrets versions enable`); nothing
 * is destroyed.
 */
export async function pruneVersions(
  ctx: SecretsContext,
  name: string,
  opts: PruneOptions,
): Promise<VersionInfo[]> {
  const secret = resolveSecret(ctx, name);
  const versions = await listVersions(ctx, secret.id);
  const now = (ctx.now ?? (() => new Date()))().getTime();
  const disabled: VersionInfo[] = [];
  // Newest first: each version was superseded when the next newer one was created.
  for (let i = 1; i < versions.length; i++) {
    const version = versions[i] as VersionInfo;
    const supersededAt = (versions[i - 1] as VersionInfo).createTime.getTime();
    if (version.state !== "ENABLED" || now - supersededAt < opts.olderThanMs) continue;
    if (!opts.dryRun) {
      await ctx.client.disableSecretVersion({
        name: `${secretName(ctx, secret.id)}/versions/${version.version}`,
      });
    }
    disabled.push(version);
  }
  const verb = opts.dryRun ? "would disable" : "disabled";
  ctx.stdout.write(
    disabled.length
      ? `${secret.id}: ${verb} version(s) ${disabled.map((v) => v.version).join(", ")}.\n`
      : `${secret.id}: no enabled version was superseded long enough ago; nothing to disable.\n`,
  );
  return disabled;
}

// ---- argv -------------------------------------------------------------------------------------------

export const USAGE = `Usage: npm run secrets -- <command> <env> [args] [--project <id>]

  status <env>                                  every secret of the stack and whether it has an enabled version
  set <env> <name> [--generate]                 add a version; the value is read from standard input
                                                (hidden prompt on a terminal), or a random key with --generate
  rotate <env> session-signing-key              new signing key; the previous one stays enabled (grace period)
  prune <env> <name> --older-than <duration>    disable versions superseded longer ago than <duration> (7d, 24h)
                                                [--dry-run]

<env> is dev, staging or prod; the project comes from the site configuration (infra/site.json) unless
--project is given. <name> is a secret id (intercom-access-token) or its env var (INTERCOM_ACCESS_TOKEN).
`;

export interface ParsedArgs {
  readonly command: "status" | "set" | "rotate" | "prune" | "help";
  readonly env: string | undefined;
  readonly name: string | undefined;
  readonly project: string | undefined;
  readonly olderThan: string | undefined;
  readonly generate: boolean;
  readonly dryRun: boolean;
}

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const positional: string[] = [];
  let project: string | undefined;
  let olderThan: string | undefined;
  let generate = false;
  let dryRun = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    const [flag, inline] = arg.startsWith("--") ? arg.split("=", 2) : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === "") throw new SecretsCliError(`${flag} needs a value`);
      return v;
    };
    if (flag === "--project") project = value();
    else if (flag === "--older-than") olderThan = value();
    else if (flag === "--generate") generate = true;
    else if (flag === "--dry-run") dryRun = true;
    else if (flag === "--help" || flag === "-h") positional.unshift("help");
    else if (flag?.startsWith("-")) throw new SecretsCliError(`unknown option ${flag}`);
    else positional.push(arg);
  }
  const [command = "help", env, name, ...extra] = positional;
  if (!["status", "set", "rotate", "prune", "help"].includes(command)) {
    throw new SecretsCliError(`unknown command "${command}"`);
  }
  if (extra.length > 0) {
    // A value typed on the command line would end up in shell history: refuse rather than ignore it.
    throw new SecretsCliError(
      `unexpected argument(s) after the secret name; values are read from standard input, never from the command line`,
    );
  }
  return {
    command: command as ParsedArgs["command"],
    env,
    name,
    project,
    olderThan,
    generate,
    dryRun,
  };
}

/** Runs one parsed command; returns the process exit code. */
export async function runCommand(ctx: SecretsContext, args: ParsedArgs): Promise<number> {
  const needName = () => {
    if (!args.name) throw new SecretsCliError(`${args.command} needs a secret name`);
    return args.name;
  };
  switch (args.command) {
    case "help":
      ctx.stdout.write(USAGE);
      return 0;
    case "status": {
      const rows = await secretStatus(ctx);
      ctx.stdout.write(formatStatus(rows, ctx.projectId));
      return rows.every((r) => r.state === "ok") ? 0 : 1;
    }
    case "set":
      await setSecret(ctx, needName(), { generate: args.generate });
      return 0;
    case "rotate":
      await rotateSigningKey(ctx, needName());
      return 0;
    case "prune": {
      if (!args.olderThan)
        throw new SecretsCliError("prune needs --older-than <duration> (the grace period)");
      await pruneVersions(ctx, needName(), {
        olderThanMs: parseDuration(args.olderThan),
        dryRun: args.dryRun,
      });
      return 0;
    }
  }
}
