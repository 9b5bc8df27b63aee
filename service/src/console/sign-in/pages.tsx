import type { Context } from "hono";
import type { Child } from "hono/jsx";
import type { AppEnv } from "../../http/app-env";
import { Page } from "../layout";

/**
 * The sign-in pages: the door (a button to the issuer, or where the local link is), and the pages a failed
 * sign-in ends on. Everything shown that came from outside (an issuer's error, an e-mail address) is text.
 */

export type SignInMode = { kind: "oidc"; issuerHost: string } | { kind: "local" } | { kind: "none" };

export function SignInPage(props: {
  c: Context<AppEnv>;
  mode: SignInMode;
  next: string | null;
  error?: string;
}) {
  const { mode } = props;
  const start = `/console/auth/start${props.next ? `?next=${encodeURIComponent(props.next)}` : ""}`;
  return (
    <Page c={props.c} title="Sign in">
      <div class="card sign-in">
        {props.error && (
          <p role="alert" class="badge danger">
            {props.error}
          </p>
        )}
        {mode.kind === "oidc" && (
          <p>
            <a class="button" href={start}>
              Sign in with {mode.issuerHost}
            </a>
          </p>
        )}
        {mode.kind === "local" && <LocalHelp />}
        {mode.kind === "none" && (
          <p>
            This deployment has no sign-in configured. An operator sets <code>OIDC_ISSUER</code>,{" "}
            <code>OIDC_CLIENT_ID</code> and <code>OIDC_CLIENT_SECRET</code> (docs/console.md, “Sign-in”).
          </p>
        )}
      </div>
    </Page>
  );
}

function LocalHelp() {
  return (
    <>
      <p>
        No identity provider is configured, so this local deployment signs in with a one-time link. Look for
        the line starting with <code>Console:</code> in the terminal where <code>npm start</code> runs and
        open it.
      </p>
      <p class="muted">
        A link works once and for 15 minutes. For a new one, restart the service. To sign in with your company
        accounts instead, set <code>OIDC_ISSUER</code> (docs/console.md, “Sign-in”).
      </p>
    </>
  );
}

/** A sign-in that did not work: what happened and the way back. */
export function SignInProblem(props: {
  c: Context<AppEnv>;
  title: string;
  children: Child;
  local?: boolean;
}) {
  return (
    <Page c={props.c} title={props.title}>
      <div class="card sign-in">
        <p role="alert">{props.children}</p>
        {props.local ? <LocalHelp /> : null}
        <p>
          <a href="/console/sign-in">Back to sign-in</a>
        </p>
      </div>
    </Page>
  );
}
