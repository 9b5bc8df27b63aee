import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import { queueEntries, queueMarker } from "../../db/escalation-queue";
import type { EscalationStatus } from "../../db/escalations";
import { inTenant } from "../../db/tenant-scope";
import type { AppEnv } from "../../http/app-env";
import { createRouter } from "../../http/router";
import { ANY_ROLE, consoleTenant, viewerOf } from "../access";
import type { ConsoleDeps } from "../deps";
import { Page, tenantPath } from "../layout";
import { principalOf } from "../session";
import { escalationPage } from "./escalation-detail";
import { QueueTable } from "./escalation-view";

const STATUSES: readonly EscalationStatus[] = ["open", "claimed", "resolved"];
/** How often the stream looks at the queue, and how long one stream lasts (EventSource reconnects). */
const POLL_MS = 2000;
const STREAM_MS = 10 * 60_000;
const HEARTBEAT_MS = 20_000;

const statusOf = (c: Context<AppEnv>) => STATUSES.find((s) => s === c.req.query("status"));

/**
 * The agents' queue (docs/console.md, "Escalations"): the page, its live stream and each escalation's
 * page. Reading only; claim, resolve and reply go through the admin API.
 */
export function escalationPages(deps: ConsoleDeps, opts: { pollMs?: number } = {}) {
  const app = createRouter();
  const { sql } = deps.admin;

  app.get("/console/t/:tenantId/escalations", async (c) => {
    const { tenant } = await consoleTenant(c, sql, c.req.param("tenantId"), ANY_ROLE);
    const status = statusOf(c);
    const [entries, marker] = await inTenant(tenant.id, () =>
      Promise.all([queueEntries(sql, { status, limit: 200 }), queueMarker(sql)]),
    );
    const viewer = principalOf(viewerOf(c), tenant.id).actor;
    const stream = `${tenantPath(tenant.id, "escalations/stream")}`;
    return c.html(
      <Page
        c={c}
        title="Escalations"
        tenant={{ id: tenant.id, name: tenant.name }}
        section="escalations"
        scripts={["escalations.js"]}
      >
        <StatusFilter status={status} />
        <p id="queue-status" class="muted" role="status" aria-live="polite" aria-atomic="true">
          Reload the page for the newest escalations.
        </p>
        <section
          id="queue"
          aria-label="Escalation queue"
          data-stream={stream}
          data-marker={marker.marker}
          data-open={String(marker.open)}
        >
          <QueueTable tenantId={tenant.id} entries={entries} viewer={viewer} />
        </section>
      </Page>,
    );
  });

  app.get("/console/t/:tenantId/escalations/stream", async (c) => {
    const { tenant } = await consoleTenant(c, sql, c.req.param("tenantId"), ANY_ROLE);
    const poll = opts.pollMs ?? POLL_MS;
    return streamSSE(c, async (stream) => {
      let gone = false;
      stream.onAbort(() => {
        gone = true;
      });
      const ends = Date.now() + STREAM_MS;
      let last = "";
      let beat = Date.now();
      await stream.writeSSE({ event: "hello", data: "", retry: poll });
      while (!gone && Date.now() < ends) {
        const now = await inTenant(tenant.id, () => queueMarker(sql));
        if (now.marker !== last) {
          await stream.writeSSE({ event: "queue", data: JSON.stringify(now) });
          last = now.marker;
          beat = Date.now();
        } else if (Date.now() - beat > HEARTBEAT_MS) {
          await stream.write(": keep-alive\n\n");
          beat = Date.now();
        }
        await stream.sleep(poll);
      }
    });
  });

  app.route("/", escalationPage(deps));
  return app;
}

function StatusFilter(props: { status: EscalationStatus | undefined }) {
  return (
    <form class="inline" method="get" aria-label="Filter the queue">
      <label>
        Show
        <select name="status">
          <option value="" selected={!props.status}>
            Open, claimed and recently resolved
          </option>
          {STATUSES.map((s) => (
            <option value={s} selected={props.status === s}>
              {s[0]?.toUpperCase()}
              {s.slice(1)} only
            </option>
          ))}
        </select>
      </label>
      <button type="submit" class="secondary">
        Filter
      </button>
    </form>
  );
}
