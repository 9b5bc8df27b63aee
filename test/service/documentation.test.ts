import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { describe, expect, test } from "vitest";

// The README is the front door: what Switchboard is, the two set-up commands, a short tour and links.
// Everything else lives in docs/, reachable from it; these tests keep it short and its links whole.

const README = "README.md";
const DOCS = readdirSync("docs")
  .filter((f) => f.endsWith(".md"))
  .map((f) => join("docs", f));

/** Markdown without fenced code blocks and inline code, where `[x](y)` and `# x` are not links or headings. */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "").replace(/`[^`\n]*`/g, "");
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchorsOf(file: string): Set<string> {
  const markdown = readFileSync(file, "utf8").replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "");
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const [, heading] of markdown.matchAll(/^#{1,6}[ \t]+(.+?)[ \t#]*$/gm)) {
    const text = (heading ?? "").replace(/\[([^\]]*)\]\([^)]*\)/g, "$1");
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
      .replace(/ /g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** Every relative link and image target in a Markdown file, as written. */
function relativeLinksOf(file: string): string[] {
  const targets = [...prose(readFileSync(file, "utf8")).matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?/g)].map(
    (m) => m[1] ?? "",
  );
  return targets.filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t));
}

describe("documentation", () => {
  test("the README stays at most 15 KB", () => {
    expect(readFileSync(README).byteLength).toBeLessThanOrEqual(15 * 1024);
  });

  test("the README's set-up is the two commands for a fresh machine", () => {
    const readme = readFileSync(README, "utf8");
    const setUp = readme.slice(readme.indexOf("## Set up"));
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(setUp)?.[1] ?? "";
    const commands = firstBlock
      .split("\n")
      .map((line) => line.replace(/#.*$/, "").trim())
      .filter(Boolean);
    expect(commands).toEqual(["npm ci && npm start", "npm test"]);
  });

  test("the README links to every document in docs/", () => {
    const linked = new Set(relativeLinksOf(README).map((t) => normalize(t.split("#")[0] ?? "")));
    expect(DOCS.filter((doc) => !linked.has(normalize(doc)))).toEqual([]);
  });

  test("every relative link in the README and docs/ points at a file and heading that exist", () => {
    const broken: string[] = [];
    let checked = 0;
    for (const file of [README, ...DOCS]) {
      for (const target of relativeLinksOf(file)) {
        checked++;
        const [path = "", anchor] = target.split("#");
        const resolved = path === "" ? file : normalize(join(dirname(file), decodeURI(path)));
        if (!existsSync(resolved)) broken.push(`${file}: ${target} (no such file)`);
        else if (anchor !== undefined && resolved.endsWith(".md") && !anchorsOf(resolved).has(anchor)) {
          broken.push(`${file}: ${target} (no such heading)`);
        }
      }
    }
    expect(broken).toEqual([]);
    // The docs link to each other; finding none would mean the link pattern no longer matches.
    expect(checked).toBeGreaterThan(20);
  });
});
