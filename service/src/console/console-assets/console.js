// The console's one shared script (docs/console.md, "How the console is built"). Pages read without it;
// with it, a form marked `data-api="METHOD /api/v1/admin/…"` is sent to the admin API as JSON with the
// session's CSRF token, so every change goes through the API's own validation, authorization and audit.
//
// Field names are dotted paths into the JSON body (`widget.greeting`); `data-type` on a field says how to
// read it: number, boolean (a checkbox), json, lines (one array item per non-empty line), csv (items split
// on commas). An empty field is left out unless it has `data-keep-empty` (then it is sent as null).
// On the form: `data-next` = a URL to go to afterwards ("reload" reloads, "{field}" takes a field of the
// answer), `data-confirm` = a question to confirm first, `data-result` = the id of an <output> that shows
// the answer's `data-show` field (a secret shown once). Errors show in the form's [role=alert] element.
(() => {
  const csrf = () => document.querySelector('meta[name="csrf-token"]')?.getAttribute("content") || "";

  function setPath(target, path, value) {
    const keys = path.split(".");
    let node = target;
    for (let i = 0; i < keys.length - 1; i++) {
      node[keys[i]] = node[keys[i]] && typeof node[keys[i]] === "object" ? node[keys[i]] : {};
      node = node[keys[i]];
    }
    node[keys[keys.length - 1]] = value;
  }

  function readField(el) {
    const type = el.dataset.type || "string";
    if (type === "boolean") return el.checked;
    const raw = el.value;
    if (raw.trim() === "") return el.hasAttribute("data-keep-empty") ? null : undefined;
    if (type === "number") return Number(raw);
    if (type === "json") return JSON.parse(raw);
    if (type === "lines")
      return raw
        .split("\n")
        .map((s) => s.trim())
        .filter(Boolean);
    if (type === "csv")
      return raw
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
    return raw;
  }

  /** The form's fields as the JSON body (named, enabled, not buttons, radios only when checked). */
  function bodyOf(form) {
    const body = {};
    for (const el of form.elements) {
      if (!el.name || el.disabled || el.name === "_csrf" || el.type === "submit" || el.type === "button")
        continue;
      if (el.type === "radio" && !el.checked) continue;
      if (el.type === "checkbox" && el.dataset.type !== "boolean" && !el.checked) continue;
      let value;
      try {
        value = readField(el);
      } catch {
        throw new Error(`${el.labels?.[0]?.textContent?.trim() || el.name}: not valid JSON`);
      }
      if (value !== undefined) setPath(body, el.name, value);
    }
    return body;
  }

  /** Sends a request to the admin API as the signed-in person; throws with the API's message on a 4xx/5xx. */
  async function api(method, path, body) {
    const init = { method, headers: { "x-csrf-token": csrf() }, credentials: "same-origin" };
    if (body !== undefined && method !== "GET" && method !== "DELETE") {
      init.headers["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const res = await fetch(path, init);
    const text = await res.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = { text };
    }
    if (!res.ok) {
      const err = new Error(data?.error?.message || `${res.status} ${res.statusText}`);
      err.status = res.status;
      err.body = data;
      throw err;
    }
    return data;
  }

  function alertOf(form) {
    let el = form.querySelector("[role=alert]");
    if (!el) {
      el = document.createElement("p");
      el.setAttribute("role", "alert");
      el.className = "error";
      form.prepend(el);
    }
    return el;
  }

  function nextUrl(template, answer) {
    return template.replace(/\{(\w+)\}/g, (_, key) => encodeURIComponent(answer?.[key] ?? ""));
  }

  async function submit(form, submitter) {
    const [method, path] = form.dataset.api.split(" ");
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
    const alert = alertOf(form);
    alert.textContent = "";
    const status = form.querySelector("[data-status]");
    const buttons = form.querySelectorAll("button");
    buttons.forEach((b) => {
      b.disabled = true;
    });
    form.setAttribute("aria-busy", "true");
    try {
      const answer = await api(method, path, method === "DELETE" ? undefined : bodyOf(form));
      form.dispatchEvent(new CustomEvent("api:done", { detail: answer, bubbles: true }));
      if (form.dataset.result) {
        const out = document.getElementById(form.dataset.result);
        if (out) {
          out.textContent = form.dataset.show
            ? String(answer?.[form.dataset.show] ?? "")
            : JSON.stringify(answer, null, 2);
          out.hidden = false;
          out.closest("[hidden]")?.removeAttribute("hidden");
          out.focus?.();
        }
      }
      const next = submitter?.dataset.next || form.dataset.next;
      if (next === "reload") window.location.reload();
      else if (next) window.location.assign(nextUrl(next, answer));
      else if (status) status.textContent = "Saved.";
    } catch (error) {
      alert.textContent = error.message;
      alert.focus?.();
    } finally {
      buttons.forEach((b) => {
        b.disabled = false;
      });
      form.removeAttribute("aria-busy");
    }
  }

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.api) return;
    event.preventDefault();
    submit(form, event.submitter);
  });

  // Pages' own scripts reuse the same request function.
  window.Switchboard = { api, bodyOf, csrf };
})();
