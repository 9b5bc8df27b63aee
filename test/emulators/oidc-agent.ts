/**
 * A browser without a screen for the test OpenID provider: `fetch` plus what a browser adds on the way —
 * the provider's cookies (its session and interaction cookies are path-scoped and signed), redirects, and
 * the forms the provider's pages submit by script (RP-initiated logout). It stops at the first URL outside
 * the provider (the client's redirect URI or post-logout URI) without loading it, and returns that URL.
 *
 * One agent = one browser profile: a second sign-in with the same agent finds the provider's session and is
 * not asked to log in again (as at a real provider); use a new agent for another person.
 */

interface Cookie {
  name: string;
  value: string;
  path: string;
}

interface Step {
  url: URL;
  method: "GET" | "POST";
  body?: URLSearchParams;
}

const MAX_STEPS = 20;

export class OidcAgent {
  readonly #origin: string;
  readonly #cookies = new Map<string, Cookie>();

  constructor(providerUrl: string) {
    this.#origin = new URL(providerUrl).origin;
  }

  /** Opens `url` and follows the provider until it sends the browser elsewhere; that URL is returned. */
  async follow(url: string | URL): Promise<URL> {
    let step: Step = { url: new URL(url), method: "GET" };
    for (let i = 0; i < MAX_STEPS; i++) {
      if (step.url.origin !== this.#origin) return step.url;
      const next = await this.#load(step);
      step = next;
    }
    throw new Error(`the provider redirected more than ${MAX_STEPS} times`);
  }

  /** Names of the provider's cookies this browser holds (e.g. to see that logout removed the session). */
  cookieNames(): string[] {
    return [...new Set([...this.#cookies.values()].map((c) => c.name))];
  }

  async #load(step: Step): Promise<Step> {
    const res = await fetch(step.url, {
      method: step.method,
      redirect: "manual",
      headers: { cookie: this.#cookieHeader(step.url.pathname), accept: "text/html" },
      ...(step.body ? { body: step.body } : {}),
    });
    this.#store(res.headers.getSetCookie());
    const location = res.headers.get("location");
    if (res.status >= 300 && res.status < 400 && location) {
      await res.body?.cancel();
      // 307/308 repeat the method; the provider uses 302/303 (the next request is a GET).
      const keep = res.status === 307 || res.status === 308;
      return keep
        ? { ...step, url: new URL(location, step.url) }
        : { url: new URL(location, step.url), method: "GET" };
    }
    const html = await res.text();
    const form = autoSubmittedForm(html, step.url);
    if (res.ok && form) return form;
    throw new Error(`the provider answered ${res.status} at ${step.url.pathname}: ${pageText(html)}`);
  }

  #cookieHeader(path: string): string {
    return [...this.#cookies.values()]
      .filter((c) => path === c.path || path.startsWith(c.path.endsWith("/") ? c.path : `${c.path}/`))
      .map((c) => `${c.name}=${c.value}`)
      .join("; ");
  }

  #store(setCookies: string[]): void {
    for (const line of setCookies) {
      const [pair = "", ...attributes] = line.split(";").map((part) => part.trim());
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq);
      const attrs = new Map(
        attributes.map((a) => {
          const i = a.indexOf("=");
          return i < 0 ? [a.toLowerCase(), ""] : [a.slice(0, i).toLowerCase(), a.slice(i + 1)];
        }),
      );
      const path = attrs.get("path") || "/";
      const expires = attrs.get("expires");
      const gone =
        attrs.get("max-age") === "0" || (expires !== undefined && Date.parse(expires) <= Date.now());
      if (gone) this.#cookies.delete(`${name};${path}`);
      else this.#cookies.set(`${name};${path}`, { name, value: pair.slice(eq + 1), path });
    }
  }
}

/** A page that submits its only form by script (oidc-provider's form_post page, the fixture's logout page). */
function autoSubmittedForm(html: string, base: URL): Step | undefined {
  if (!html.includes("document.forms[0].submit()")) return undefined;
  const form = /<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/.exec(html);
  if (!form?.[1]) return undefined;
  const body = new URLSearchParams();
  for (const input of (form[2] ?? "").matchAll(
    /<input type="hidden" name="([^"]*)" value="([^"]*)"\s*\/?>/g,
  )) {
    body.append(unescapeHtml(input[1] ?? ""), unescapeHtml(input[2] ?? ""));
  }
  return { url: new URL(unescapeHtml(form[1]), base), method: "POST", body };
}

function unescapeHtml(text: string): string {
  return text
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&quot;", '"')
    .replaceAll("&#39;", "'")
    .replaceAll("&amp;", "&");
}

function pageText(html: string): string {
  return unescapeHtml(html.replace(/<style[\s\S]*?<\/style>/g, "").replace(/<[^>]+>/g, " "))
    .replace(/\s+/g, " ")
    .trim()
    .slice(0, 300);
}
