import { readFileSync } from "node:fs";
import { createRouter } from "../http/router";

// Beside this module in the source tree and, after `npm run build`, beside the bundle (scripts/build.ts
// copies the folder there), the same way the widget and the migrations are found.
const ASSETS = new URL("./console-assets/", import.meta.url);
const TYPES: Record<string, string> = {
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
};
const cache = new Map<string, string>();

/** A console asset's text, read once; undefined for a name that is not one (no path tricks: one segment). */
function asset(name: string): string | undefined {
  if (!/^[a-z0-9-]+\.(js|css)$/.test(name)) return undefined;
  let text = cache.get(name);
  if (text === undefined) {
    try {
      text = readFileSync(new URL(name, ASSETS), "utf8");
    } catch {
      return undefined;
    }
    cache.set(name, text);
  }
  return text;
}

/** GET /console/assets/<name>: the console's scripts and style sheet, served as written (no build step). */
export function consoleAssetRoutes() {
  const app = createRouter();
  app.get("/console/assets/:name", (c) => {
    const name = c.req.param("name");
    const text = asset(name);
    if (text === undefined) return c.notFound();
    c.header("content-type", TYPES[name.split(".").pop() ?? ""] ?? "text/plain");
    c.header("cache-control", "no-cache");
    return c.body(text);
  });
  return app;
}
