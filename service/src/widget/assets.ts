import { readFileSync } from "node:fs";

// Beside this module in the source tree and, after `npm run build`, beside the bundle (scripts/build.ts
// copies it there), the same way the migrations are found.
const WIDGET_URL = new URL("./widget.js", import.meta.url);
let widgetJs: string | undefined;

/** The widget's source, served as written (plain ES2019, no build step). Read once, on first use. */
export function widgetScript(): string {
  widgetJs ??= readFileSync(WIDGET_URL, "utf8");
  return widgetJs;
}
