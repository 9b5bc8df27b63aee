import MarkdownIt from "markdown-it";

/**
 * Knowledge documents' preview. markdown-it with `html: false` escapes any HTML in the source (a
 * `<script>` or `<img onerror>` is shown as text) and its link check refuses `javascript:`, `vbscript:`,
 * `file:` and non-image `data:` URLs, so its output is markup of its own making only: the one string
 * the console inserts as HTML.
 */
const markdown = new MarkdownIt({ html: false, linkify: true, typographer: false });

// Links in a preview leave the console: a new tab that cannot reach back (no opener, no referrer).
const defaultLinkOpen =
  markdown.renderer.rules.link_open ??
  ((tokens, i, options, _env, self) => self.renderToken(tokens, i, options));
markdown.renderer.rules.link_open = (tokens, i, options, env, self) => {
  tokens[i]?.attrSet("rel", "noopener noreferrer nofollow");
  tokens[i]?.attrSet("target", "_blank");
  return defaultLinkOpen(tokens, i, options, env, self);
};

/** A Markdown document as safe HTML. */
export function renderMarkdown(source: string): string {
  return markdown.render(source);
}
