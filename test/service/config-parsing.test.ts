import { describe, expect, test } from "vitest";
import { ConfigError, parseConfig } from "../../service/src/config";
import { startService } from "../../service/src/main";
import { baseEnv, raw, testDatabase } from "./helpers";

/** The issues a configuration is refused with (an empty list when it is accepted). */
function issuesOf(env: Record<string, string>): readonly string[] {
  try {
    parseConfig(env);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
}

const MON_TO_FRI = new Set([1, 2, 3, 4, 5]);

describe("business hours", () => {
  test("BUSINESS_HOURS is parsed into days and minutes; the default is Mon-Fri 09:00-17:00", () => {
    expect(parseConfig({}).BUSINESS_HOURS).toEqual({ days: MON_TO_FRI, start: 540, end: 1020 });
    expect(parseConfig({ BUSINESS_HOURS: "Sat 10:00-14:30" }).BUSINESS_HOURS).toEqual({
      days: new Set([6]),
      start: 600,
      end: 870,
    });
    // A range of days may wrap around the week; 24:00 ends the day.
    expect(parseConfig({ BUSINESS_HOURS: "fri-mon 00:00-24:00" }).BUSINESS_HOURS).toEqual({
      days: new Set([5, 6, 0, 1]),
      start: 0,
      end: 1440,
    });
  });

  test.each([
    ["weekdays 9-5", /BUSINESS_HOURS: must be like "Mon-Fri 09:00-17:00" \(got "weekdays 9-5"\)/],
    ["Mon-Fry 09:00-17:00", /BUSINESS_HOURS: has an unknown day/],
    ["Mon-Fri 09:00-25:00", /BUSINESS_HOURS: has a time that is not between 00:00 and 24:00/],
    ["Mon-Fri 09:75-17:00", /BUSINESS_HOURS: has a time/],
    ["Mon-Fri 17:00-09:00", /BUSINESS_HOURS: must end after it starts/],
  ])("BUSINESS_HOURS=%s is refused, naming the variable", (value, message) => {
    expect(issuesOf({ BUSINESS_HOURS: value }).join("\n")).toMatch(message);
  });

  test("BUSINESS_TIMEZONE must be a time zone the runtime knows", () => {
    expect(parseConfig({}).BUSINESS_TIMEZONE).toBe("UTC");
    expect(parseConfig({ BUSINESS_TIMEZONE: "Europe/Berlin" }).BUSINESS_TIMEZONE).toBe("Europe/Berlin");
    expect(issuesOf({ BUSINESS_TIMEZONE: "Mars/Olympus_Mons" })).toEqual([
      'BUSINESS_TIMEZONE: must be an IANA time zone like "Europe/Berlin" or "UTC" (got "Mars/Olympus_Mons")',
    ]);
  });
});

describe("handoff settings", () => {
  test("HANDOFF_ASSIGNEE is a team or an admin, or unset", () => {
    expect(parseConfig({}).HANDOFF_ASSIGNEE).toBeUndefined();
    expect(parseConfig({ HANDOFF_ASSIGNEE: "team:5678" }).HANDOFF_ASSIGNEE).toEqual({
      type: "team",
      id: "5678",
    });
    expect(parseConfig({ HANDOFF_ASSIGNEE: "admin:42" }).HANDOFF_ASSIGNEE).toEqual({
      type: "admin",
      id: "42",
    });
    expect(issuesOf({ HANDOFF_ASSIGNEE: "support" })).toEqual([
      'HANDOFF_ASSIGNEE: must be "team:<id>" or "admin:<id>" (got "support")',
    ]);
  });

  test("HANDOFF_REQUEST_PATTERN is a case-insensitive expression; the default catches asking for a person", () => {
    const pattern = parseConfig({}).HANDOFF_REQUEST_PATTERN;
    expect(pattern.test("Can I TALK to a real person please")).toBe(true);
    expect(pattern.test("How do I reset my password?")).toBe(false);
    expect(parseConfig({ HANDOFF_REQUEST_PATTERN: "human" }).HANDOFF_REQUEST_PATTERN.test("HUMAN!")).toBe(
      true,
    );
    expect(issuesOf({ HANDOFF_REQUEST_PATTERN: "(talk" })).toEqual([
      'HANDOFF_REQUEST_PATTERN: is not a valid regular expression (got "(talk")',
    ]);
  });

  test("HANDOFF_TOPICS is an expression too, or none", () => {
    expect(parseConfig({}).HANDOFF_TOPICS).toBeUndefined();
    expect(parseConfig({ HANDOFF_TOPICS: "\\brefund\\b" }).HANDOFF_TOPICS?.test("A REFUND, please")).toBe(
      true,
    );
    expect(issuesOf({ HANDOFF_TOPICS: "[refund" }).join("\n")).toMatch(/^HANDOFF_TOPICS: is not a valid/);
  });
});

describe("routing patterns", () => {
  test("ROUTING_ESCALATE_PATTERNS: comma-separated fragments, each a valid expression", () => {
    expect(
      parseConfig({ ROUTING_ESCALATE_PATTERNS: " contrast , weigh up " }).ROUTING_ESCALATE_PATTERNS,
    ).toEqual(["contrast", "weigh up"]);
    expect(parseConfig({}).ROUTING_ESCALATE_PATTERNS).toContain("pros and cons");
    expect(issuesOf({ ROUTING_ESCALATE_PATTERNS: "compare,analy(se" }).join("\n")).toMatch(
      /^ROUTING_ESCALATE_PATTERNS: must be comma-separated valid regular-expression fragments/,
    );
  });
});

describe("a bad value stops start-up", () => {
  test("every bad handoff and hours value is reported at once", () => {
    const issues = issuesOf({
      BUSINESS_HOURS: "always",
      BUSINESS_TIMEZONE: "Nowhere/Town",
      HANDOFF_ASSIGNEE: "bob",
      HANDOFF_TOPICS: "(",
    });
    expect(issues.map((i) => i.split(":")[0]).sort()).toEqual([
      "BUSINESS_HOURS",
      "BUSINESS_TIMEZONE",
      "HANDOFF_ASSIGNEE",
      "HANDOFF_TOPICS",
    ]);
  });

  test("with Intercom off, before the database is migrated", async () => {
    const t = await testDatabase();
    try {
      const started = startService(
        { ...baseEnv, BUSINESS_TIMEZONE: "Europe/Atlantis" },
        { database: t.db, logDestination: { write: () => true } },
      );
      await expect(started).rejects.toThrow(/BUSINESS_TIMEZONE: must be an IANA time zone/);
      const [row] = await raw(t.db)<
        { table: string | null }[]
      >`select to_regclass('schema_migrations')::text as table`;
      expect(row?.table).toBeNull();
    } finally {
      await t.drop();
    }
  });
});
