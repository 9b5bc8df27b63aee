import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { expect } from "vitest";
import type { ConsoleLogin } from "../service/console-helpers";

/**
 * The console in Debian's Chromium (playwright-core, no browser download), with axe-core's accessibility
 * checks. Files using this skip themselves where /usr/bin/chromium is missing (`describe.skipIf(!hasChromium)`).
 */

export const CHROMIUM = "/usr/bin/chromium";
export const hasChromium = existsSync(CHROMIUM);

// The flags this machine's closed network needs (every background connection of Chromium would be refused).
const ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
}

/** A fresh browser profile already signed in to the console at `baseUrl` with `login`'s session cookie. */
export async function signedInContext(
  browser: Browser,
  baseUrl: string,
  login: ConsoleLogin,
  viewport = { width: 1280, height: 900 },
): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport });
  await context.addCookies([
    { name: "sb_console", value: login.token, url: baseUrl, httpOnly: true, sameSite: "Lax" },
  ]);
  return context;
}

const AXE_SOURCE = createRequire(import.meta.url)("axe-core").source as string;

interface AxeViolation {
  id: string;
  impact: "minor" | "moderate" | "serious" | "critical" | null;
  help: string;
  nodes: { target: unknown[]; failureSummary?: string }[];
}

/**
 * Runs axe-core (WCAG 2.x A and AA rules) on the page as it is now and fails on any serious or critical
 * violation, listing them. Returns every violation (minor and moderate ones too) for a test that wants more.
 */
export async function expectAccessible(page: Page, label = page.url()): Promise<AxeViolation[]> {
  // Evaluated through the DevTools protocol: the console's Content-Security-Policy (no inline script) stays on.
  await page.evaluate(AXE_SOURCE);
  const violations = (await page.evaluate(
    `axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } }).then((r) => r.violations)`,
  )) as AxeViolation[];
  const blocking = violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map(
      (v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => JSON.stringify(n.target)).join(", ")}`,
    );
  expect(blocking, `accessibility of ${label}`).toEqual([]);
  return violations;
}
