import type { Config } from "../config";
import { createLocalSignInLink } from "../console/sign-in/local-link";
import { oidcClient } from "../console/sign-in/oidc";
import type { SignInOptions } from "../console/sign-in/options";
import type { Sql } from "../db/client";
import type { Logger } from "../logger";

/**
 * How people sign in to the console, from the configuration: through OIDC_ISSUER, or (no issuer, not in
 * production) with a one-time link printed at start-up; in production without an issuer, not at all.
 */
export function consoleSignIn(config: Config): SignInOptions {
  const production = config.NODE_ENV === "production";
  const issuer = config.OIDC_ISSUER;
  return {
    oidc:
      issuer && config.OIDC_CLIENT_ID
        ? oidcClient({
            issuer,
            clientId: config.OIDC_CLIENT_ID,
            clientSecret: config.OIDC_CLIENT_SECRET,
            scopes: config.OIDC_SCOPES,
            // config.ts refuses an http issuer in production; elsewhere it is the local emulator.
            allowHttp: !production,
          })
        : undefined,
    redirectUrl: config.OIDC_REDIRECT_URL,
    localLinks: !issuer && !production,
    publicUrl: config.PUBLIC_URL,
  };
}

export interface AnnounceOptions {
  sql: Sql;
  log: Logger;
  port: number;
  /** Where the link's line goes; undefined: no link is made (tests of other parts). */
  print: ((line: string) => void) | undefined;
}

/**
 * At start-up: without an issuer, a local deployment makes a one-time sign-in link for its local platform
 * admin and prints it (a plain line, not a JSON log line: the newcomer's first click). In production without
 * an issuer the console has no sign-in: a warning, not a failed start (the API and channels still work).
 */
export async function announceConsoleSignIn(
  config: Config,
  opts: AnnounceOptions,
): Promise<string | undefined> {
  if (config.SERVICE_ROLE === "worker") return undefined;
  if (config.OIDC_ISSUER) {
    opts.log.info(
      { event: "console.sign_in", issuer: config.OIDC_ISSUER },
      "console sign-in through the issuer",
    );
    return undefined;
  }
  if (config.NODE_ENV === "production") {
    opts.log.warn(
      { event: "console.no_sign_in" },
      "The console has no sign-in configured: set OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET (the one-time local link is refused in production)",
    );
    return undefined;
  }
  if (!opts.print) return undefined;
  const base = (config.PUBLIC_URL ?? `http://localhost:${opts.port}`).replace(/\/+$/, "");
  const link = await createLocalSignInLink(opts.sql, base);
  opts.print(`Console: ${link}  (one-time sign-in link for the local admin, valid 15 minutes)`);
  opts.log.info({ event: "console.sign_in_link" }, "printed a one-time console sign-in link");
  return link;
}
