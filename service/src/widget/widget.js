/**
 * Switchboard chat widget: one <script src=".../widget.js" data-tenant data-title data-color data-greeting
 * data-position="right|left"> tag. `data-tenant` is the tenant's widget public key, sent on every request
 * as X-Switchboard-Tenant; the look comes from the tenant's settings (GET /api/v1/widget/config) unless the
 * tag's own data-attributes set it. Plain ES2020, no dependencies, no build step: the service serves this
 * file as written. Everything lives in a Shadow DOM so the host page's CSS cannot reach it, and model text
 * only ever reaches the page through textContent / createTextNode (never innerHTML).
 */
(() => {
  const script = document.currentScript;
  if (!script || window.__switchboardWidget) return;
  window.__switchboardWidget = true;

  const data = script.dataset;
  const api = (data.api || new URL(script.src, location.href).origin).replace(/\/+$/, "");
  const tenant = data.tenant || "";
  const tenantHeader = tenant ? { "x-switchboard-tenant": tenant } : {};
  // Only a plain colour value reaches the style sheet, so a colour setting cannot inject CSS.
  const plainColor = (c) => /^(#[0-9a-f]{3,8}|[a-z]{3,20}|rgba?\([\d\s.,%]+\))$/i.test(c || "");
  // The tag's data-attributes win over the tenant's settings, which win over these defaults (applyLook).
  let title = data.title || "Support";
  let greeting = data.greeting || "Hi! Ask me anything.";
  // One stored session per service and tenant: a guest's token is only valid for the tenant that issued it.
  const storeKey = `switchboard:${api}${tenant ? `#${tenant}` : ""}`;

  const load = () => {
    try {
      return JSON.parse(localStorage.getItem(storeKey) || "null");
    } catch {
      return null; // storage blocked (privacy mode, sandboxed frame): the session lasts for the page only
    }
  };
  const save = (value) => {
    try {
      if (value) localStorage.setItem(storeKey, JSON.stringify(value));
      else localStorage.removeItem(storeKey);
    } catch {
      // as above
    }
  };
  let session = load();

  const el = (tag, attrs, children) => {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
    for (const child of children || []) node.append(child);
    return node;
  };

  const host = el("div", { "data-switchboard": "" });
  const root = host.attachShadow({ mode: "open" });
  const style = el("style");
  // A page with a Content-Security-Policy gives this script tag a nonce; the style sheet needs the same one.
  if (script.nonce) style.nonce = script.nonce;
  style.textContent = `
:host{all:initial;--sb-color:#2454d6}
*{box-sizing:border-box}
.launcher,.panel{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24}
button,textarea{font:inherit}
.launcher{position:fixed;bottom:20px;right:20px;z-index:2147483000;width:56px;height:56px;border-radius:50%;border:0;background:var(--sb-color);color:#fff;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);display:flex;align-items:center;justify-content:center}
.launcher svg{width:26px;height:26px;fill:#fff}
button:focus-visible,textarea:focus-visible,a:focus-visible{outline:3px solid #ffbf47;outline-offset:2px}
.panel{position:fixed;bottom:88px;right:20px;z-index:2147483001;width:370px;max-width:calc(100vw - 40px);height:560px;max-height:calc(100vh - 110px);background:#fff;border-radius:12px;box-shadow:0 10px 40px rgba(0,0,0,.3);display:flex;flex-direction:column;overflow:hidden}
[data-side=left]{right:auto;left:20px}
.panel[hidden],[hidden]{display:none}
header{background:var(--sb-color);padding:12px 14px;display:flex;align-items:center;justify-content:space-between}
h2{margin:0;font-weight:600;font-size:16px;color:#fff}
.close{background:transparent;border:0;color:#fff;font-size:22px;line-height:1;cursor:pointer;padding:4px 8px}
.log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;background:#f6f7f9}
.msg{max-width:85%;padding:8px 12px;border-radius:12px;white-space:normal;overflow-wrap:anywhere}
.msg p{margin:0 0 6px}.msg p:last-child{margin:0}.msg ul,.msg ol{margin:0 0 6px;padding-left:20px}
.msg a{color:#1a4fd0;text-decoration:underline}
.user{align-self:flex-end;background:var(--sb-color);color:#fff}.user *{color:#fff}
.assistant{align-self:flex-start;background:#fff;border:1px solid #dde1e6}
.typing{align-self:flex-start;color:#57606a;padding:4px 12px}
.typing span{display:inline-block;width:6px;height:6px;margin-right:3px;border-radius:50%;background:#8c959f;animation:b 1s infinite}
.typing span:nth-child(2){animation-delay:.2s}.typing span:nth-child(3){animation-delay:.4s}
@keyframes b{50%{opacity:.2}}
@media (prefers-reduced-motion:reduce){.typing span{animation:none}}
.notice{margin:0;padding:16px 14px;border-top:1px solid #dde1e6;background:#fff;color:#57606a;text-align:center}
.error{margin:0;padding:8px 12px;background:#fff4e5;color:#7a3e00;border-top:1px solid #f0c58a;font-size:14px}
form{display:flex;gap:8px;padding:10px;border-top:1px solid #dde1e6;background:#fff}
textarea{flex:1;resize:none;height:42px;padding:9px 10px;border:1px solid #aeb6bf;border-radius:8px}
.send{border:0;border-radius:8px;background:var(--sb-color);color:#fff;padding:0 14px;cursor:pointer;font-weight:600}
.send:disabled{opacity:.6;cursor:default}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media (max-width:480px){.panel{inset:0;width:100%;max-width:none;height:100%;max-height:none;border-radius:0}}
`;

  const launcher = el("button", {
    type: "button",
    class: "launcher",
    "aria-label": `Open chat: ${title}`,
    "aria-expanded": "false",
    "aria-controls": "sb-panel",
  });
  const icon = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  icon.setAttribute("viewBox", "0 0 24 24");
  icon.setAttribute("aria-hidden", "true");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H8l-5 4V5a2 2 0 0 1 1-2z");
  icon.append(path);
  launcher.append(icon);

  const heading = el("h2", { id: "sb-title" }, [title]);
  const close = el("button", { type: "button", class: "close", "aria-label": "Close chat" }, ["×"]);
  // role=log is polite by default; aria-busy while a reply streams so it is announced once, complete.
  const typing = el("div", { class: "typing", hidden: "" }, [
    el("span", { "aria-hidden": "true" }),
    el("span", { "aria-hidden": "true" }),
    el("span", { "aria-hidden": "true" }),
    el("span", { class: "sr" }, ["Assistant is typing"]),
  ]);
  const log = el(
    "div",
    { class: "log", role: "log", "aria-live": "polite", "aria-label": "Messages", "aria-busy": "false" },
    [typing],
  );
  const error = el("p", { class: "error", role: "alert", hidden: "" });
  const input = el("textarea", {
    id: "sb-input",
    rows: "1",
    placeholder: "Type your message…",
    autocomplete: "off",
    maxlength: "4000",
  });
  const send = el("button", { type: "submit", class: "send" }, ["Send"]);
  const form = el("form", {}, [el("label", { for: "sb-input", class: "sr" }, ["Message"]), input, send]);
  // In place of the input while the tenant is suspended.
  const notice = el("p", { class: "notice", role: "status", hidden: "" }, [
    "This chat is currently unavailable.",
  ]);
  const panel = el(
    "div",
    { id: "sb-panel", class: "panel", role: "dialog", "aria-labelledby": "sb-title", hidden: "" },
    [el("header", {}, [heading, close]), log, error, form, notice],
  );
  root.append(style, launcher, panel);

  /** A tiny Markdown subset (paragraphs, line breaks, lists, **bold**, http(s) links), built as DOM nodes. */
  const inline = (parent, text) => {
    const re = /\*\*([^*]+)\*\*|\[([^\]]+)\]\(([^)\s]+)\)|(https?:\/\/[^\s<>()]+[^\s<>().,;:!?'"])/g;
    let last = 0;
    let m = re.exec(text);
    while (m) {
      parent.append(text.slice(last, m.index));
      if (m[1] !== undefined) parent.append(el("strong", {}, [m[1]]));
      else {
        const label = m[2] !== undefined ? m[2] : m[4];
        const href = m[2] !== undefined ? m[3] : m[4];
        if (/^https?:\/\//i.test(href)) {
          parent.append(el("a", { href, target: "_blank", rel: "noopener noreferrer nofollow" }, [label]));
        } else parent.append(label); // any other scheme (javascript:, data:) stays plain text
      }
      last = re.lastIndex;
      m = re.exec(text);
    }
    parent.append(text.slice(last));
  };
  const render = (node, text) => {
    node.textContent = "";
    for (const block of text.split(/\n{2,}/)) {
      const lines = block.split("\n").filter((l) => l.trim() !== "");
      if (lines.length === 0) continue;
      const ordered = lines.every((l) => /^\s*\d+[.)]\s/.test(l));
      if (ordered || lines.every((l) => /^\s*[-*]\s/.test(l))) {
        const list = el(ordered ? "ol" : "ul");
        for (const l of lines) inline(list.appendChild(el("li")), l.replace(/^\s*(\d+[.)]|[-*])\s+/, ""));
        node.append(list);
        continue;
      }
      const p = el("p");
      lines.forEach((l, i) => {
        if (i > 0) p.append(el("br"));
        inline(p, l);
      });
      node.append(p);
    }
  };

  const addMessage = (role, text) => {
    const node = el("div", { class: `msg ${role}` });
    node.append(el("span", { class: "sr" }, [role === "user" ? "You: " : `${title}: `]));
    const body = node.appendChild(el("div"));
    render(body, text);
    log.insertBefore(node, typing);
    log.scrollTop = log.scrollHeight;
    return body;
  };

  const showError = (message) => {
    error.textContent = message || "";
    error.hidden = !message;
  };
  const clock = (date) => date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const errorText = (status, body, retryAfter) => {
    const e = body?.error || {};
    const seconds = Number.parseInt(retryAfter || "", 10);
    const retry =
      seconds > 0
        ? ` Please try again in ${seconds} s (at ${clock(new Date(Date.now() + seconds * 1000))}).`
        : " Please try again shortly.";
    if (e.code === "budget_exceeded" || e.code === "guest_budget_exceeded") {
      const reset = e.details?.resetAt ? new Date(e.details.resetAt) : null;
      return `You have reached the message limit for now.${reset && !Number.isNaN(reset.getTime()) ? ` It resets at ${reset.toLocaleString([], { dateStyle: "medium", timeStyle: "short" })}.` : ""}`;
    }
    if (status === 429) return `You are sending messages too quickly.${retry}`;
    if (status === 503) return `The assistant is busy right now.${retry}`;
    return e.message || `Something went wrong (HTTP ${status}).`;
  };
  /** An error whose message is meant for the person chatting (anything else means the network failed). */
  const shown = (message) => Object.assign(new Error(message), { shown: true });
  const networkText = () =>
    navigator.onLine === false
      ? "You appear to be offline. Check your connection and try again."
      : "Could not reach the chat service. Please try again later.";

  let loaded = false;
  let busy = false;
  const setBusy = (value) => {
    busy = value;
    send.disabled = value;
    log.setAttribute("aria-busy", String(value));
  };

  /** The tenant is suspended: a notice in place of the input, until the page is loaded again. */
  let closed = false;
  const unavailable = () => {
    closed = true;
    form.hidden = true;
    notice.hidden = false;
    showError("");
  };
  const isSuspended = (status, body) => status === 403 && body?.error?.code === "tenant_suspended";

  const loadHistory = async () => {
    if (loaded) return;
    loaded = true;
    addMessage("assistant", greeting);
    if (!session || closed) return;
    try {
      const res = await fetch(`${api}/api/v1/sessions/${encodeURIComponent(session.sessionId)}/messages`, {
        headers: { ...tenantHeader, authorization: `Bearer ${session.token}` },
      });
      if (res.status === 403 && isSuspended(403, await res.json().catch(() => null))) {
        unavailable();
        return;
      }
      if (res.status === 401 || res.status === 404) {
        session = null; // expired or unknown: start afresh on the next message
        save(null);
        return;
      }
      if (!res.ok) return;
      const body = await res.json();
      for (const m of body.messages || []) addMessage(m.role === "user" ? "user" : "assistant", m.content);
    } catch {
      showError(networkText());
    }
  };

  /** Reads `event:` / `data:` blocks off a fetch body as they arrive (EventSource cannot POST). */
  const readEvents = async (res, onEvent) => {
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      const blocks = buffer.split(/\r?\n\r?\n/);
      buffer = blocks.pop() || "";
      for (const block of blocks) {
        let event = "message";
        const dataLines = [];
        for (const line of block.split(/\r?\n/)) {
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) dataLines.push(line.slice(5).replace(/^ /, ""));
        }
        if (dataLines.length) onEvent(event, JSON.parse(dataLines.join("\n")));
      }
    }
  };

  const ask = async (text, retried) => {
    const headers = { ...tenantHeader, "content-type": "application/json", accept: "text/event-stream" };
    if (session) headers.authorization = `Bearer ${session.token}`;
    const res = await fetch(`${api}/api/v1/chat`, {
      method: "POST",
      headers,
      body: JSON.stringify(session ? { message: text, sessionId: session.sessionId } : { message: text }),
    });
    if (!res.ok) {
      const body = await res.json().catch(() => null);
      if (isSuspended(res.status, body)) {
        unavailable();
        throw shown("");
      }
      // The stored session was revoked, forgotten or another tenant's: start a new one once, not fail for good.
      const stale = res.status === 401 || res.status === 404 || body?.error?.code === "tenant_mismatch";
      if (stale && session && !retried) {
        session = null;
        save(null);
        return ask(text, true);
      }
      throw shown(errorText(res.status, body, res.headers.get("retry-after")));
    }
    let bubble = null;
    let reply = "";
    let finished = false;
    await readEvents(res, (event, payload) => {
      if (event === "delta") {
        typing.hidden = true;
        reply += payload.text || "";
        if (!bubble) bubble = addMessage("assistant", reply);
        else render(bubble, reply);
        log.scrollTop = log.scrollHeight;
      } else if (event === "done") {
        finished = true;
        if (!bubble) bubble = addMessage("assistant", payload.reply);
        else render(bubble, payload.reply);
        session = {
          sessionId: payload.sessionId,
          token: payload.sessionToken || session?.token,
        };
        save(session);
      } else if (event === "error") {
        throw shown("The reply could not be completed. Please try again.");
      }
    });
    if (!finished) throw shown(networkText());
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text || busy) return;
    showError("");
    input.value = "";
    addMessage("user", text);
    setBusy(true);
    typing.hidden = false;
    log.scrollTop = log.scrollHeight;
    try {
      await ask(text, false);
    } catch (e) {
      showError(e?.shown ? e.message : networkText());
      if (!input.value) input.value = text; // keep what they wrote so they can send it again
    } finally {
      typing.hidden = true;
      setBusy(false);
    }
  });
  input.addEventListener("keydown", (event) => {
    // Enter sends, Shift+Enter is a new line; never while an IME composition is in progress.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  const open = () => {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    launcher.setAttribute("aria-label", `Close chat: ${title}`);
    loadHistory();
    input.focus();
  };
  const hide = () => {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-label", `Open chat: ${title}`);
    launcher.focus();
  };
  launcher.addEventListener("click", () => (panel.hidden ? open() : hide()));
  close.addEventListener("click", hide);
  // On the whole widget, so Escape also closes the panel while the launcher has focus.
  root.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !panel.hidden) {
      event.stopPropagation();
      hide();
    }
  });
  window.addEventListener("offline", () => showError(networkText()));
  window.addEventListener("online", () => showError(""));

  /** The tenant's look, where the tag's data-attributes do not set it. */
  const applyLook = (look) => {
    title = data.title || look.title || title;
    greeting = data.greeting || look.greeting || greeting;
    const color = [data.color, look.primaryColor].find(plainColor);
    if (color) host.style.setProperty("--sb-color", color);
    const left = (data.position || look.position) === "left";
    for (const node of [launcher, panel]) node.dataset.side = left ? "left" : "right";
    heading.textContent = title;
    launcher.setAttribute("aria-label", `Open chat: ${title}`);
  };
  /** Asks the service for the tenant's look (and whether it is open); the defaults when it cannot say. */
  const loadLook = async () => {
    try {
      const res = await fetch(`${api}/api/v1/widget/config`, { headers: tenantHeader });
      const body = await res.json().catch(() => null);
      if (isSuspended(res.status, body)) unavailable();
      return res.ok && body ? body : {};
    } catch {
      return {}; // unreachable or refused by CORS: the chat itself will say so
    }
  };

  applyLook({});
  // Shown once the look is known (or after 3 s without an answer), so it does not change colour on screen.
  const mount = () => {
    if (!host.isConnected) document.body.append(host);
  };
  const ready = new Promise((resolve) => {
    if (document.body) resolve();
    else document.addEventListener("DOMContentLoaded", resolve);
  });
  const timeout = new Promise((resolve) => setTimeout(resolve, 3000));
  Promise.race([loadLook().then(applyLook), timeout]).then(() => ready.then(mount));
})();
