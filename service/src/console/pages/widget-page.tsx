import type { Context } from "hono";
import { raw } from "hono/html";
import type { Tenant } from "../../domain/tenant";
import type { AppEnv } from "../../http/app-env";
import { ADMIN_ROLES, consoleTenant } from "../access";
import type { ConsoleDeps } from "../deps";
import { Page, tenantPath } from "../layout";

type WidgetSettings = NonNullable<Tenant["settings"]["widget"]>;
/** The widget's own defaults (widget/widget.js), shown as what an unset field falls back to. */
const DEFAULTS = { title: "Support", greeting: "Hi! Ask me anything.", primaryColor: "#2454d6" };

/** The one tag a business pastes into its site: the widget script with the tenant's public key. */
export function embedSnippet(base: string, tenant: Pick<Tenant, "widgetKey">): string {
  return `<script src="${base}/widget.js" data-tenant="${tenant.widgetKey}" defer></script>`;
}

/** The preview frame's address: the form's look as query parameters (widget-page.js keeps them current). */
function previewPath(tenant: Tenant, w: WidgetSettings) {
  const query = new URLSearchParams({
    title: w.title ?? "",
    greeting: w.greeting ?? "",
    color: w.primaryColor ?? "",
    position: w.position ?? "right",
  });
  return `${tenantPath(tenant.id, "widget/preview")}?${query}`;
}

/**
 * GET /console/t/:tenantId/widget: the widget's look, greeting and allowed origins (saved with PATCH
 * …/settings, the whole `widget` section at once), a live preview and the embed snippet to copy.
 */
export async function widgetPage(c: Context<AppEnv>, deps: ConsoleDeps) {
  const { tenant } = await consoleTenant(c, deps.admin.sql, c.req.param("tenantId") ?? "", ADMIN_ROLES);
  const widget = tenant.settings.widget ?? {};
  const base = deps.admin.publicUrl ?? new URL(c.req.url).origin;
  return c.html(
    <Page
      c={c}
      title="Widget"
      tenant={{ id: tenant.id, name: tenant.name }}
      section="widget"
      scripts={["widget-page.js"]}
    >
      <div class="grid">
        <section class="card" aria-labelledby="look-heading">
          <h2 id="look-heading">Look and origins</h2>
          <WidgetForm tenant={tenant} widget={widget} />
        </section>
        <section class="card" aria-labelledby="preview-heading">
          <h2 id="preview-heading">Preview</h2>
          <p class="muted">The widget as the form has it, before saving. Open it with its round button.</p>
          <iframe
            id="widget-preview"
            class="widget-preview"
            title="Widget preview"
            src={previewPath(tenant, widget)}
          />
        </section>
      </div>
      <EmbedSnippet tenant={tenant} base={base} />
    </Page>,
  );
}

function WidgetForm(props: { tenant: Tenant; widget: WidgetSettings }) {
  const w = props.widget;
  return (
    <form id="widget-form" class="stack" data-api={`PATCH /api/v1/admin/tenants/${props.tenant.id}/settings`}>
      <p role="alert" class="error" tabindex={-1} />
      <label>
        Title
        <input name="widget.title" value={w.title ?? ""} placeholder={DEFAULTS.title} maxlength={80} />
      </label>
      <label>
        Greeting
        <textarea name="widget.greeting" rows={3} maxlength={500} placeholder={DEFAULTS.greeting}>
          {w.greeting ?? ""}
        </textarea>
      </label>
      <label>
        Colour
        <input type="color" name="widget.primaryColor" value={w.primaryColor ?? DEFAULTS.primaryColor} />
      </label>
      <label>
        Position
        <select name="widget.position">
          <option value="right" selected={w.position !== "left"}>
            Bottom right
          </option>
          <option value="left" selected={w.position === "left"}>
            Bottom left
          </option>
        </select>
      </label>
      <label>
        Allowed origins
        <span class="hint" id="origins-hint">
          One a line, like https://www.example.com. Only these sites may embed the widget; empty: the
          deployment's CORS_ORIGINS.
        </span>
        <textarea name="widget.allowedOrigins" data-type="lines" rows={4} aria-describedby="origins-hint">
          {(w.allowedOrigins ?? []).join("\n")}
        </textarea>
      </label>
      <div>
        <button type="submit">Save</button> <span data-status aria-live="polite" />
      </div>
    </form>
  );
}

function EmbedSnippet(props: { tenant: Tenant; base: string }) {
  const rotate = `POST /api/v1/admin/tenants/${props.tenant.id}/widget-key`;
  return (
    <section class="card" aria-labelledby="embed-heading">
      <h2 id="embed-heading">Embed</h2>
      <label>
        Paste this before &lt;/body&gt; on every page of your site
        <textarea id="embed-snippet" readonly rows={3}>
          {embedSnippet(props.base, props.tenant)}
        </textarea>
      </label>
      <p>
        <button type="button" class="secondary" data-copy="embed-snippet">
          Copy
        </button>{" "}
        <span id="copy-status" aria-live="polite" />
      </p>
      <form
        class="inline"
        data-api={rotate}
        data-confirm="A new key stops the old snippet at once: every site must paste the new one. Go on?"
        data-next="reload"
      >
        <p role="alert" class="error" tabindex={-1} />
        <button type="submit" class="danger">
          New widget key
        </button>
      </form>
    </section>
  );
}

/**
 * GET /console/t/:tenantId/widget/preview: a page with only the widget on it, its look from the query
 * (the draft), talking to this service as the tenant. The look reaches the widget as its tag's
 * data-attributes, which JSX escapes; the widget itself only ever sets text.
 */
export async function widgetPreviewPage(c: Context<AppEnv>, deps: ConsoleDeps) {
  const { tenant } = await consoleTenant(c, deps.admin.sql, c.req.param("tenantId") ?? "", ADMIN_ROLES);
  const q = (name: string) => c.req.query(name)?.slice(0, 500) || undefined;
  const color = q("color");
  const nonce = c.get("secureHeadersNonce");
  return c.html(
    <>
      {raw("<!DOCTYPE html>")}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <title>Widget preview</title>
          <link rel="icon" href="data:," />
        </head>
        <body>
          <main>
            <p>Your page</p>
          </main>
          <script
            src="/widget.js"
            nonce={nonce}
            data-tenant={tenant.widgetKey}
            data-title={q("title")}
            data-greeting={q("greeting")}
            data-color={color && /^#[0-9a-fA-F]{6}$/.test(color) ? color : undefined}
            data-position={q("position") === "left" ? "left" : "right"}
          />
        </body>
      </html>
    </>,
  );
}
