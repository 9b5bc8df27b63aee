const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** The one tag a site owner pastes, for a service reachable at `origin`. */
export function embedSnippet(origin: string): string {
  return [
    `<script src="${origin}/widget.js" defer`,
    '        data-tenant="pk_your_widget_key"',
    '        data-title="Acme support"',
    '        data-color="#2454d6"',
    '        data-greeting="Hi! How can we help?"',
    '        data-position="right"></script>',
  ].join("\n");
}

/**
 * `GET /`: what Switchboard is, how to embed it, and the widget itself to try. `nonce` is the one of the
 * response's Content-Security-Policy: the inline style sheet and the widget's script tag carry it.
 */
export function demoPage(origin: string, nonce: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Switchboard: chat demo</title>
<link rel="icon" href="data:,">
<style nonce="${escapeHtml(nonce)}">
  body { font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1b1f24; margin: 0; }
  main { max-width: 46rem; margin: 0 auto; padding: 2rem 1.25rem 6rem; }
  h1 { margin-top: 0; }
  pre { background: #f3f4f6; padding: 1rem; border-radius: 8px; overflow-x: auto; font-size: 14px; }
  code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
</style>
</head>
<body>
<main>
  <h1>Switchboard</h1>
  <p>Switchboard is an AI front line for support teams: a chat endpoint that answers from your knowledge base
    (with Gemini, or offline from the Markdown articles alone), an Intercom bridge that hands conversations to
    a person when needed, and the infrastructure to run both on Google Cloud.</p>
  <p>Try it: open the chat button in the corner and ask, for example, <q>How do I reset my password?</q></p>
  <h2>Add the chat to your site</h2>
  <p>Paste one tag into your pages. <code>data-tenant</code> is your business's widget key (the admin API
    returns it with the tenant); without it the chat is the deployment's default tenant. Allow your site's
    origin in the tenant's <code>widget.allowedOrigins</code> setting (or, for the default tenant, with
    <code>CORS_ORIGINS</code> on the service).</p>
  <pre><code>${escapeHtml(embedSnippet(origin))}</code></pre>
  <p>The look comes from the tenant's <code>widget</code> settings; the tag's own <code>data-title</code>,
    <code>data-color</code>, <code>data-greeting</code> and <code>data-position</code> (<code>right</code> or
    <code>left</code>) win over them. The HTTP API is described in
    <a href="/openapi.json">/openapi.json</a>.</p>
</main>
<script src="/widget.js" defer nonce="${escapeHtml(nonce)}" data-title="Switchboard" data-greeting="Hi! I answer from the Switchboard knowledge base. What can I help with?"></script>
</body>
</html>
`;
}
