import type { Context } from "hono";
import { raw } from "hono/html";
import type { Child } from "hono/jsx";
import type { ConsoleViewer, TenantRole } from "../domain/identity";
import type { AppEnv } from "../http/app-env";
import { CSRF_FIELD, principalOf } from "./session";

/**
 * The frame of every console page: a skip link, the header (product, tenant, person, sign-out), the
 * navigation the viewer's role allows, and the page's own content in <main>. Server-rendered with Hono's
 * JSX, which escapes every text and attribute it is given, so customer and model text is never markup.
 */

export interface ConsoleTenant {
  id: string;
  name: string;
}

export interface PageProps {
  c: Context<AppEnv>;
  /** The page's <h1> and the first part of the document title. */
  title: string;
  /** The tenant the page is about; absent on platform pages. */
  tenant?: ConsoleTenant | undefined;
  /** Which navigation entry is current (aria-current). */
  section?: string | undefined;
  /** Extra scripts of the page, served from /console/assets/ (e.g. "escalations.js"). */
  scripts?: readonly string[] | undefined;
  /** Shown right of the <h1>: the page's main actions. */
  actions?: Child;
  children?: Child;
}

interface NavEntry {
  section: string;
  label: string;
  path: string;
  roles: readonly TenantRole[];
}

const AGENTS: readonly TenantRole[] = ["platform_admin", "tenant_admin", "agent"];
const ADMINS: readonly TenantRole[] = ["platform_admin", "tenant_admin"];

/** The tenant's pages, in the order of the navigation; each page's module serves its path. */
export const TENANT_NAV: readonly NavEntry[] = [
  { section: "escalations", label: "Escalations", path: "escalations", roles: AGENTS },
  { section: "conversations", label: "Conversations", path: "conversations", roles: AGENTS },
  { section: "contacts", label: "Contacts", path: "contacts", roles: AGENTS },
  { section: "leads", label: "Leads", path: "leads", roles: AGENTS },
  { section: "assistant", label: "Assistant", path: "assistant", roles: ADMINS },
  { section: "knowledge", label: "Knowledge", path: "knowledge", roles: ADMINS },
  { section: "widget", label: "Widget", path: "widget", roles: ADMINS },
  { section: "channels", label: "Channels", path: "channels", roles: ADMINS },
  { section: "users", label: "Users", path: "users", roles: ADMINS },
  { section: "webhooks", label: "Webhooks", path: "webhooks", roles: ADMINS },
  { section: "api-keys", label: "API keys", path: "api-keys", roles: ADMINS },
  { section: "usage", label: "Usage", path: "usage", roles: ADMINS },
  { section: "audit", label: "Audit log", path: "audit", roles: ADMINS },
];

/** A tenant page's path: `/console/t/<tenant id>/<page>`. */
export const tenantPath = (tenantId: string, page = "") =>
  `/console/t/${encodeURIComponent(tenantId)}${page ? `/${page}` : ""}`;

export function Page(props: PageProps) {
  const viewer = props.c.get("console");
  const nonce = props.c.get("secureHeadersNonce");
  return (
    <>
      {raw("<!DOCTYPE html>")}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="csrf-token" content={viewer?.csrfToken ?? ""} />
          <title>{`${props.title}${props.tenant ? ` · ${props.tenant.name}` : ""} · Switchboard`}</title>
          <link rel="stylesheet" href="/console/assets/console.css" />
          <link rel="icon" href="data:," />
          <script src="/console/assets/console.js" defer nonce={nonce} />
          {(props.scripts ?? []).map((s) => (
            <script src={`/console/assets/${s}`} defer nonce={nonce} />
          ))}
        </head>
        <body>
          <a class="skip" href="#main">
            Skip to content
          </a>
          <header class="top">
            <a class="brand" href="/console">
              Switchboard
            </a>
            {viewer ? <TenantSwitch viewer={viewer} tenant={props.tenant} /> : null}
            {viewer ? <Person viewer={viewer} /> : null}
          </header>
          <div class="frame">
            {viewer && (props.tenant || viewer.platformAdmin) ? (
              <Nav viewer={viewer} tenant={props.tenant} section={props.section} />
            ) : null}
            <main id="main" tabindex={-1}>
              <div class="page-head">
                <h1>{props.title}</h1>
                {props.actions ? <div class="actions">{props.actions}</div> : null}
              </div>
              {props.children}
            </main>
          </div>
        </body>
      </html>
    </>
  );
}

function Nav(props: {
  viewer: ConsoleViewer;
  tenant?: ConsoleTenant | undefined;
  section?: string | undefined;
}) {
  const { viewer, tenant } = props;
  const role = tenant ? principalOf(viewer, tenant.id).role : undefined;
  const entries = tenant && role ? TENANT_NAV.filter((e) => e.roles.includes(role)) : [];
  return (
    <nav class="side" aria-label="Console">
      {tenant ? (
        <ul>
          {entries.map((e) => (
            <li>
              <a
                href={tenantPath(tenant.id, e.path)}
                aria-current={props.section === e.section ? "page" : undefined}
              >
                {e.label}
              </a>
            </li>
          ))}
        </ul>
      ) : null}
      {viewer.platformAdmin ? (
        <ul aria-label="Platform">
          <li>
            <a
              href="/console/platform/tenants"
              aria-current={props.section === "tenants" ? "page" : undefined}
            >
              All tenants
            </a>
          </li>
          <li>
            <a
              href="/console/platform/audit"
              aria-current={props.section === "platform-audit" ? "page" : undefined}
            >
              Platform audit log
            </a>
          </li>
        </ul>
      ) : null}
    </nav>
  );
}

/** The tenants a person belongs to, as links (a platform admin picks from "All tenants" instead). */
function TenantSwitch(props: { viewer: ConsoleViewer; tenant?: ConsoleTenant | undefined }) {
  const tenants = props.viewer.memberships.filter((m) => m.tenantId);
  if (props.viewer.platformAdmin || tenants.length < 2) {
    return props.tenant ? <span class="tenant-name">{props.tenant.name}</span> : null;
  }
  return (
    <details class="tenant-switch">
      <summary>{props.tenant?.name ?? "Choose a tenant"}</summary>
      <ul>
        {tenants.map((m) => (
          <li>
            <a href={tenantPath(m.tenantId as string)}>{m.tenantName ?? m.tenantId}</a>
          </li>
        ))}
      </ul>
    </details>
  );
}

function Person(props: { viewer: ConsoleViewer }) {
  return (
    <form class="person" method="post" action="/console/sign-out">
      <span>{props.viewer.name ?? props.viewer.email ?? props.viewer.subject}</span>
      <CsrfField c={undefined} token={props.viewer.csrfToken} />
      <button type="submit" class="link">
        Sign out
      </button>
    </form>
  );
}

/** The hidden CSRF field of a plain form (console.js sends the header instead). */
export function CsrfField(props: { c: Context<AppEnv> | undefined; token?: string | undefined }) {
  const token = props.token ?? props.c?.get("console")?.csrfToken ?? "";
  return <input type="hidden" name={CSRF_FIELD} value={token} />;
}
