import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { cruise, type ICruiseResult } from "dependency-cruiser";
import extractDepcruiseOptions from "dependency-cruiser/config-utl/extract-depcruise-options";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

/**
 * The layering rules of .dependency-cruiser.cjs (run over service/src by `npm run deps` in `npm test`)
 * must catch a back-arrow: here they run over a small tree shaped like the service's, with one.
 */
const FIXTURE: Record<string, string> = {
  // The back-arrows the service had: db/ importing an engine type, the engine importing an adapter.
  "service/src/db/usage.ts":
    'import type { BudgetUsage } from "../engine/budgets";\nexport type Used = BudgetUsage;\n',
  "service/src/engine/budgets.ts": "export interface BudgetUsage {\n  day: number;\n}\n",
  "service/src/engine/conversation-engine.ts":
    'import { LocalKnowledgeProvider } from "../adapters/local-model";\nexport const fallback = new LocalKnowledgeProvider();\n',
  "service/src/adapters/local-model.ts": "export class LocalKnowledgeProvider {}\n",
  // The pipeline reaching into a channel, and one channel into another.
  "service/src/channels/pipeline/pipeline.ts":
    'import { verifier } from "../intercom/verifier";\nexport const run = () => verifier;\n',
  "service/src/channels/intercom/verifier.ts":
    'import type { Verifier } from "../pipeline/channel";\nexport const verifier: Verifier = {};\n',
  "service/src/channels/pipeline/channel.ts": "export interface Verifier {}\n",
  "service/src/channels/twilio/parser.ts":
    'import { verifier } from "../intercom/verifier";\nexport const parser = () => verifier;\n',
  // A cycle inside one layer.
  "service/src/engine/a.ts": 'import { b } from "./b";\nexport const a = () => b;\n',
  "service/src/engine/b.ts": 'import { a } from "./a";\nexport const b = () => a;\n',
  // Arrows the right way round.
  "service/src/domain/identity.ts": 'export type Tier = "guest" | "free";\n',
  "service/src/engine/routing.ts":
    'import type { Tier } from "../domain/identity";\nexport const tier: Tier = "free";\n',
  "service/src/routes/chat.ts":
    'import { tier } from "../engine/routing";\nexport const route = () => tier;\n',
};

let dir: string;
let result: ICruiseResult;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "switchboard-layering-"));
  for (const [path, source] of Object.entries(FIXTURE)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), source);
  }
  const options = await extractDepcruiseOptions(resolve(".dependency-cruiser.cjs"));
  result = (await cruise(["service/src"], { ...options, validate: true, baseDir: dir }))
    .output as ICruiseResult;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const violations = () => result.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).sort();

describe("layering rules", () => {
  test("a db module importing from the engine is a violation", () => {
    expect(violations()).toContain(
      "db-depends-on-nothing-above: service/src/db/usage.ts → service/src/engine/budgets.ts",
    );
  });

  test("the engine importing an adapter is a violation", () => {
    expect(violations()).toContain(
      "engine-points-inward: service/src/engine/conversation-engine.ts → service/src/adapters/local-model.ts",
    );
  });

  test("the pipeline importing a channel, or a channel another channel, is a violation", () => {
    expect(violations()).toContain(
      "pipeline-knows-no-channel: service/src/channels/pipeline/pipeline.ts → service/src/channels/intercom/verifier.ts",
    );
    expect(violations()).toContain(
      "channels-are-independent: service/src/channels/twilio/parser.ts → service/src/channels/intercom/verifier.ts",
    );
    expect(violations().filter((v) => v.includes("→ service/src/channels/pipeline/channel.ts"))).toEqual([]);
  });

  test("a cycle is a violation, and arrows the right way round are not", () => {
    expect(violations().filter((v) => v.startsWith("no-circular"))).not.toEqual([]);
    expect(violations().filter((v) => /routing|routes|domain/.test(v))).toEqual([]);
  });
});
