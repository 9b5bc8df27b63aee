import type { OidcAgent, OidcProvider, OidcUser } from "../emulators/oidc";

/**
 * A browser without a screen signing in to the console through the test OpenID provider: the console's
 * /console/auth/start, the provider's pages (OidcAgent), and the console's callback with the binding cookie
 * the start set. Each step is returned so a test can replay or alter it.
 */

export interface SignInAttempt {
  /** `sb_console_auth=<value>` as set by /console/auth/start. */
  binding: string;
  /** The raw Set-Cookie line of the binding cookie. */
  bindingLine: string;
  /** Where the provider sent the browser back (the console's callback, with code and state). */
  callback: URL;
}

export const setCookieLine = (res: Response, name: string) =>
  res.headers.getSetCookie().find((line) => line.startsWith(`${name}=`));

export const cookiePair = (line: string | undefined) => line?.split(";")[0] ?? "";

/** /console/auth/start and the provider's pages, up to (not into) the console's callback. */
export async function startSignIn(
  base: string,
  op: OidcProvider,
  user: OidcUser,
  opts: { next?: string; agent?: OidcAgent; headers?: Record<string, string> } = {},
): Promise<SignInAttempt> {
  const query = opts.next === undefined ? "" : `?next=${encodeURIComponent(opts.next)}`;
  const start = await fetch(`${base}/console/auth/start${query}`, {
    redirect: "manual",
    headers: opts.headers,
  });
  if (start.status !== 303) throw new Error(`start answered ${start.status}: ${await start.text()}`);
  const bindingLine = setCookieLine(start, "sb_console_auth") ?? "";
  op.signInAs(user);
  const callback = await (opts.agent ?? op.agent()).follow(start.headers.get("location") ?? "");
  return { binding: cookiePair(bindingLine), bindingLine, callback };
}

/** Opens the callback URL (on `base`, whatever host the provider named) with `cookie` (the binding, or not). */
export function openCallback(
  base: string,
  callback: URL,
  cookie: string | undefined,
  headers: Record<string, string> = {},
) {
  return fetch(`${base}${callback.pathname}${callback.search}`, {
    redirect: "manual",
    headers: { ...headers, ...(cookie ? { cookie } : {}), accept: "text/html" },
  });
}

/** The whole sign-in; the callback's response. */
export async function signInThroughIssuer(
  base: string,
  op: OidcProvider,
  user: OidcUser,
  opts: { next?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  const attempt = await startSignIn(base, op, user, opts);
  return openCallback(base, attempt.callback, attempt.binding, opts.headers);
}
