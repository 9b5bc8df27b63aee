import type { Child } from "hono/jsx";

/**
 * Small pieces the tenant admins' pages (channels, users, webhooks, API keys) share: a time as people read
 * it, and a form that console.js sends to the admin API (docs/console.md, "How the console is built").
 */

/** `2026-12-01 05:34 UTC` in a <time> element; a dash when there is none. */
export function When(props: { at: Date | string | null | undefined; none?: string }) {
  if (!props.at) return <span class="muted">{props.none ?? "—"}</span>;
  const iso = new Date(props.at).toISOString();
  return <time datetime={iso}>{`${iso.slice(0, 16).replace("T", " ")} UTC`}</time>;
}

export interface ApiFormProps {
  /** `METHOD /api/v1/admin/…` */
  api: string;
  /** An accessible name for the form (it is a region of the page). */
  label: string;
  class?: string;
  next?: string;
  confirm?: string;
  /** The id of the <output> that shows the answer's `show` field (a secret, once). */
  result?: string;
  show?: string;
  children?: Child;
}

/** A form console.js sends as JSON with the CSRF token; its errors land in the [role=alert] paragraph. */
export function ApiForm(props: ApiFormProps) {
  return (
    <form
      class={props.class ?? "stack"}
      aria-label={props.label}
      data-api={props.api}
      data-next={props.next}
      data-confirm={props.confirm}
      data-result={props.result}
      data-show={props.show}
    >
      <p role="alert" class="error" tabindex={-1} />
      {props.children}
    </form>
  );
}

/** Where a secret shown once appears after the form that made it (hidden until then). */
export function ShownOnce(props: { id: string; label: string; children?: Child }) {
  return (
    <div class="card" hidden>
      <p>
        <strong>{props.label}</strong> Copy it now: it is not shown again.
      </p>
      <pre>
        <output id={props.id} tabindex={-1} aria-live="polite" />
      </pre>
      {props.children}
    </div>
  );
}

/** The admin API path of a tenant's resource. */
export const adminApi = (tenantId: string, path: string) =>
  `/api/v1/admin/tenants/${encodeURIComponent(tenantId)}/${path}`;
