// The escalation queue, live (docs/console.md, "Escalations"). The server's stream says when the queue
// changed; this fetches the page again and swaps the queue's HTML in, keeping focus on the same control
// when it is still there, and says in the status region how many new escalations came in. Without this
// script the page still lists the queue as of its loading (reload for the newest).
(() => {
  const queue = document.getElementById("queue");
  const status = document.getElementById("queue-status");
  if (!queue || !status || !window.EventSource) return;
  status.textContent = "Live: new escalations appear here by themselves.";
  // What the page showed when it was rendered: the stream's first marker is compared with it.
  let known = Number(queue.dataset.open);
  let marker = queue.dataset.marker;
  let busy = false;

  /** A way back to the focused control after the swap: its row and its name. */
  function focusKey() {
    const el = document.activeElement;
    if (!el || !queue.contains(el)) return undefined;
    const row = el.closest("[data-escalation]");
    return row
      ? { row: row.dataset.escalation, label: el.getAttribute("aria-label") || el.textContent }
      : undefined;
  }

  function restoreFocus(key) {
    if (!key) return;
    const row = queue.querySelector(`[data-escalation="${CSS.escape(key.row)}"]`);
    const candidates = row ? row.querySelectorAll("a, button") : [];
    const same = [...candidates].find(
      (el) => (el.getAttribute("aria-label") || el.textContent) === key.label,
    );
    // The row left this view (claimed elsewhere, resolved): focus goes to the queue, not to the page's top.
    (same || queue).focus();
  }

  async function refresh(open) {
    if (busy) return;
    busy = true;
    try {
      const res = await fetch(window.location.href, { credentials: "same-origin" });
      if (!res.ok) return;
      const doc = new DOMParser().parseFromString(await res.text(), "text/html");
      const fresh = doc.getElementById("queue");
      if (!fresh) return;
      const key = focusKey();
      queue.replaceChildren(...fresh.childNodes);
      restoreFocus(key);
      const added = open - known;
      if (added > 0) status.textContent = `${added} new escalation${added === 1 ? "" : "s"}`;
      else status.textContent = "The queue was updated.";
    } finally {
      busy = false;
      known = open;
    }
  }

  queue.tabIndex = -1;
  const source = new EventSource(queue.dataset.stream, { withCredentials: true });
  source.addEventListener("queue", (event) => {
    const next = JSON.parse(event.data);
    if (next.marker === marker) return;
    marker = next.marker;
    refresh(next.open);
  });
})();
