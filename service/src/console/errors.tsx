import type { Context, ErrorHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "../http/app-env";
import { errorHandler } from "../http/error-handler";
import type { Logger } from "../logger";
import { Page } from "./layout";

const TITLES: Record<number, string> = {
  400: "That did not work",
  403: "Not allowed",
  404: "Not found",
  429: "Slow down",
};

/**
 * Console pages answer errors as pages: no session sends the browser to sign in (and back afterwards); a
 * refusal or a missing page is a page saying so with the request id; anything unexpected is logged by the
 * app's own handler and shown as a page without details. A script's request (Accept: JSON) gets the JSON.
 */
export function consoleErrorHandler(log: Logger): ErrorHandler<AppEnv> {
  const json = errorHandler(log);
  return async (err, c) => {
    if (!wantsPage(c)) return json(err, c);
    const status = err instanceof HTTPException ? err.status : 500;
    if (status === 401 && c.req.method === "GET") {
      return c.redirect(`/console/sign-in?next=${encodeURIComponent(c.req.path)}`, 303);
    }
    const answered = await json(err, c);
    const body = (await answered.json()) as { error: { message: string; requestId: string } };
    return c.html(
      <Page c={c} title={TITLES[answered.status] ?? "Something went wrong"}>
        <div class="card">
          <p>
            {answered.status >= 500
              ? "The console could not show this page. Try again in a moment."
              : body.error.message}
          </p>
          <p class="muted">
            Request id <code>{body.error.requestId}</code>
          </p>
          <p>
            <a href="/console">Back to the console</a>
          </p>
        </div>
      </Page>,
      answered.status as 400,
    );
  };
}

function wantsPage(c: Context): boolean {
  const accept = c.req.header("accept") ?? "";
  return !accept.includes("application/json") && !accept.includes("text/event-stream");
}
