import { describe, expect, test } from "vitest";
import { fitSms } from "../../service/src/channels/sms/format";
import {
  classifyKeyword,
  HELP_KEYWORDS,
  OPT_IN_KEYWORDS,
  OPT_OUT_KEYWORDS,
} from "../../service/src/channels/sms/keywords";
import { handoffNotice, helpReply, quotaNotice } from "../../service/src/channels/sms/notices";
import { countSegments } from "../../service/src/channels/sms/segments";
import { type SmsSettings, smsBusinessHours, smsSettingsOf } from "../../service/src/channels/sms/settings";
import { type BusinessHours, parseWeeklyHours } from "../../service/src/domain/business-hours";
import { tenantSettingsSchema } from "../../service/src/domain/tenant";

const a = (n: number) => "a".repeat(n);
const EMOJI = "\u{1F600}";
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** Segments through Telnyx, whose GSM-7 alphabet is the narrower one: what a capped reply must respect. */
const billed = (text: string) => countSegments(text, "portable").segments;

describe("segments: what a text costs", () => {
  test("GSM-7: 160 characters are one segment, 161 are two (153 a part), 307 are three", () => {
    expect(countSegments(a(160))).toEqual({ encoding: "GSM-7", segments: 1, units: 160 });
    expect(countSegments(a(161))).toEqual({ encoding: "GSM-7", segments: 2, units: 161 });
    expect(countSegments(a(306)).segments).toBe(2);
    expect(countSegments(a(307)).segments).toBe(3);
  });

  test("one emoji makes the whole text UCS-2: 70 code units are one segment, 71 are two, an emoji is 2", () => {
    expect(countSegments(`${a(68)}${EMOJI}`)).toEqual({ encoding: "UCS-2", segments: 1, units: 70 });
    expect(countSegments(`${a(69)}${EMOJI}`)).toEqual({ encoding: "UCS-2", segments: 2, units: 71 });
    expect(countSegments(`${a(132)}${EMOJI}`).segments).toBe(2);
    expect(countSegments(`${a(133)}${EMOJI}`).segments).toBe(3);
  });

  test("the extension table costs 2 each and stays GSM-7; accented Latin and Greek of GSM 03.38 cost 1", () => {
    expect(countSegments(`\u20AC${a(158)}`)).toEqual({ encoding: "GSM-7", segments: 1, units: 160 });
    expect(countSegments(`\u20AC${a(159)}`).segments).toBe(2);
    expect(countSegments("^{}\\[~]|\f").units).toBe(18);
    expect(countSegments("caf\u00E9 \u00DCber \u00F1 \u0394").encoding).toBe("GSM-7");
    expect(countSegments("\u00E1").encoding).toBe("UCS-2");
    expect(countSegments("\u2019").encoding).toBe("UCS-2");
  });

  test("a segment boundary never splits an escape pair nor a surrogate pair, which can cost a part", () => {
    // 306 septets fill two parts exactly, but the € cannot straddle parts 1 and 2.
    expect(countSegments(`${a(152)}\u20AC${a(152)}`)).toMatchObject({ units: 306, segments: 3 });
    // 134 code units fill two UCS-2 parts exactly, but the emoji cannot straddle them.
    expect(countSegments(`${a(66)}${EMOJI}${a(66)}`)).toMatchObject({ units: 134, segments: 3 });
  });

  test("through Telnyx a euro sign or Greek capital is UCS-2 (its alphabet is narrower)", () => {
    expect(countSegments(`\u20AC${a(100)}`, "portable")).toMatchObject({ encoding: "UCS-2", segments: 2 });
    expect(countSegments("\u0394", "portable").encoding).toBe("UCS-2");
    expect(countSegments(`{${a(100)}}`, "portable")).toMatchObject({ encoding: "GSM-7", units: 104 });
  });
});

describe("fitSms: a model's reply as a text message", () => {
  test("Markdown is gone: emphasis, headings, code, quotes, rules and tables; bullets stay as '-'", () => {
    const reply = [
      "## Opening hours",
      "",
      "We are **open** *Mon-Fri* and __Sat__ ~~Sun~~.",
      "> Closed on `public_holidays`.",
      "---",
      "* Shop 1",
      "+ Shop 2",
      "1) First",
      "",
      "| Plan | Price |",
      "| --- | ---: |",
      "| Basic | $5 |",
    ].join("\n");
    expect(fitSms(reply, 10)).toBe(
      [
        "Opening hours",
        "",
        "We are open Mon-Fri and Sat Sun.",
        "Closed on public_holidays.",
        "- Shop 1",
        "- Shop 2",
        "1. First",
        "",
        "Plan, Price",
        "Basic, $5",
      ].join("\n"),
    );
  });

  test("links read 'text (url)', bare and bracketed URLs stay, and a URL keeps every character", () => {
    const url = "https://example.com/a_b_(c)/*x*?q=\u2019&r=**s**";
    expect(fitSms(`See [our *refund* policy](${url}) now.`, 10)).toBe(`See our refund policy (${url}) now.`);
    expect(fitSms("Go to [https://acme.com](https://acme.com).", 10)).toBe("Go to https://acme.com.");
    expect(fitSms("Docs: <https://acme.com/x_y_z>, or https://acme.com/a_b_c.", 10)).toBe(
      "Docs: https://acme.com/x_y_z, or https://acme.com/a_b_c.",
    );
    expect(fitSms("Use my\\_name and \\*stars\\*", 10)).toBe("Use my_name and *stars*");
  });

  test("smart quotes, dashes and ellipses become ASCII, so prose stays GSM-7 (but never inside a link)", () => {
    const fitted = fitSms("\u201CWe\u2019re open\u201D \u2013 9\u201417\u2026 no\u00A0fee", 10);
    expect(fitted).toBe('"We\'re open" - 9-17... no fee');
    expect(countSegments(fitted).encoding).toBe("GSM-7");
  });

  test("whitespace is tidied: one space between words, at most one blank line, none around", () => {
    expect(fitSms("  Hello \t there  \r\n\r\n\r\n\r\nBye   \n", 10)).toBe("Hello there\n\nBye");
  });

  test("a long reply is capped at the segment limit, at a word, with a GSM-7 '...'", () => {
    const reply = "Our team answers every question about orders, returns and deliveries ".repeat(10);
    for (const max of [1, 2, 3]) {
      const fitted = fitSms(reply, max);
      expect(billed(fitted)).toBe(max);
      expect(countSegments(fitted).encoding).toBe("GSM-7");
      expect(fitted).toMatch(/[a-z]\.\.\.$/);
      expect(reply.startsWith(fitted.slice(0, -3))).toBe(true);
    }
  });

  test("it ends after the last whole sentence when that keeps most of the text, without an ellipsis", () => {
    const reply = `${"We ship every weekday from our store. ".repeat(4)}${"And more words follow here ".repeat(9)}`;
    const fitted = fitSms(reply, 1);
    expect(fitted).toBe("We ship every weekday from our store. ".repeat(4).trim());
  });

  test("capping an emoji reply never splits a surrogate pair and ends with '…' (already UCS-2)", () => {
    for (const reply of [
      EMOJI.repeat(80),
      `${"ok ".repeat(20)}${`${EMOJI} `.repeat(60)}`,
      `Hi ${EMOJI} ${"word ".repeat(40)}`,
    ]) {
      for (const max of [1, 2]) {
        const fitted = fitSms(reply, max);
        expect(billed(fitted)).toBeLessThanOrEqual(max);
        expect(fitted).not.toMatch(LONE_SURROGATE);
        expect(fitted.endsWith("\u2026")).toBe(true);
      }
    }
  });

  test("the ellipsis never turns a GSM-7 text UCS-2 when the emoji was in the part cut off", () => {
    const fitted = fitSms(`${"plain words here ".repeat(12)}${EMOJI}`, 1);
    expect(fitted.endsWith("...")).toBe(true);
    expect(countSegments(fitted).encoding).toBe("GSM-7");
  });

  test("a link that does not fit is dropped whole, one that fits is kept whole", () => {
    const url = "https://shop.example.com/orders/track?id=12345&ref=sms-campaign-2026";
    const reply = `${"Your parcel left our warehouse today ".repeat(3)}and you can track it here: ${url} any time.`;
    const fitted = fitSms(reply, 1);
    expect(billed(fitted)).toBe(1);
    expect(fitted).not.toContain("https://");
    expect(fitted.endsWith("...")).toBe(true);
    const kept = fitSms(`Track it: ${url} ${"and some more words to cut ".repeat(10)}`, 1);
    expect(kept).toContain(url);
    expect(billed(kept)).toBe(1);
  });

  test("the cap holds through Telnyx too: a euro sign makes the reply count as UCS-2", () => {
    const fitted = fitSms(
      `Prices start at 5\u20AC a month. ${"Ask us about plans and offers. ".repeat(5)}`,
      1,
    );
    expect(countSegments(fitted, "portable").segments).toBe(1);
    expect(fitted.startsWith("Prices start at 5\u20AC a month.")).toBe(true);
  });

  test("never empty when the reply had text: one word longer than the cap is cut, Markdown-only is kept", () => {
    const fitted = fitSms(a(2000), 1);
    expect(fitted).toBe(`${a(157)}...`);
    expect(fitSms("---", 1)).not.toBe("");
    expect(fitSms("   ", 1)).toBe("");
  });

  test("whatever the reply, the result fits the cap and has no lone surrogate", () => {
    const parts = [
      "word",
      "\u20AC",
      EMOJI,
      "https://a.example/x_y",
      "**b**",
      "\u2019",
      "\n",
      "[l](https://l.example)",
    ];
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    for (let i = 0; i < 60; i++) {
      const reply = Array.from({ length: 20 + (next() % 200) }, () => parts[next() % parts.length]).join(" ");
      const max = 1 + (next() % 4);
      const fitted = fitSms(reply, max);
      expect(billed(fitted)).toBeLessThanOrEqual(max);
      expect(fitted).not.toMatch(LONE_SURROGATE);
      expect(fitted.length).toBeGreaterThan(0);
    }
  });
});

describe("keywords: consent and help, whole message only", () => {
  test("every opt-out, opt-in and help keyword of Twilio and Telnyx, in any case", () => {
    expect([...OPT_OUT_KEYWORDS]).toEqual(
      expect.arrayContaining([
        "STOP",
        "STOPALL",
        "STOP ALL",
        "UNSUBSCRIBE",
        "CANCEL",
        "END",
        "QUIT",
        "REVOKE",
        "OPTOUT",
      ]),
    );
    for (const k of OPT_OUT_KEYWORDS)
      expect(classifyKeyword(k.toLowerCase())).toEqual({ kind: "opt_out", keyword: k });
    for (const k of ["START", "UNSTOP", "YES"]) expect(classifyKeyword(k)?.kind).toBe("opt_in");
    expect([...OPT_IN_KEYWORDS].sort()).toEqual(["START", "UNSTOP", "YES"]);
    expect([...HELP_KEYWORDS]).toEqual(["HELP", "INFO"]);
    expect(classifyKeyword("Info")).toEqual({ kind: "help", keyword: "INFO" });
  });

  test("surrounding spaces, quotes and a closing full stop or '!' are tolerated", () => {
    expect(classifyKeyword("  Stop. ")).toEqual({ kind: "opt_out", keyword: "STOP" });
    expect(classifyKeyword("STOP!!")).toEqual({ kind: "opt_out", keyword: "STOP" });
    expect(classifyKeyword('"stop"')).toEqual({ kind: "opt_out", keyword: "STOP" });
    expect(classifyKeyword("stop   all")).toEqual({ kind: "opt_out", keyword: "STOP ALL" });
    expect(classifyKeyword("Help?")).toEqual({ kind: "help", keyword: "HELP" });
  });

  test("a keyword inside a sentence is a message to answer, not a keyword", () => {
    expect(classifyKeyword("Stop texting me about my order")).toBeUndefined();
    expect(classifyKeyword("please stop")).toBeUndefined();
    expect(classifyKeyword("I need help with my order")).toBeUndefined();
    expect(classifyKeyword("stopp")).toBeUndefined();
    expect(classifyKeyword("")).toBeUndefined();
  });
});

const settings = (over: Partial<SmsSettings> = {}): SmsSettings => ({ ...smsSettingsOf({}), ...over });
const oneGsmSegment = (text: string) =>
  expect(countSegments(text, "portable")).toMatchObject({ encoding: "GSM-7", segments: 1 });

describe("SMS settings", () => {
  test("defaults: 3 segments, no limits, tier free, a one-segment help text with opt-out words", () => {
    const s = smsSettingsOf({});
    expect(s).toMatchObject({ maxSegments: 3, dailyLimit: null, monthlyLimit: null, tier: "free" });
    expect(s.helpText).toContain("Reply STOP to opt out");
    oneGsmSegment(s.helpText);
  });

  test("the default help text names the business and its contact; the tenant's name when no business name", () => {
    const named = smsSettingsOf({
      promptVariables: { businessName: "Joe\u2019s Pizza", escalationContact: "555-0100" },
    });
    expect(named.helpText).toBe(
      "Joe's Pizza: for help, contact 555-0100. Reply STOP to opt out. Msg&data rates may apply.",
    );
    expect(smsSettingsOf({}, "Acme Inc.").helpText.startsWith("Acme Inc.: ")).toBe(true);
    const long = smsSettingsOf({
      promptVariables: { businessName: "B".repeat(150), escalationContact: "x@y.z" },
    });
    oneGsmSegment(long.helpText);
  });

  test("a tenant's own values win", () => {
    const s = smsSettingsOf({
      sms: { maxSegments: 1, helpText: "Call 555-0100.", dailyLimit: 50, monthlyLimit: 900, tier: "premium" },
    });
    expect(s).toMatchObject({
      maxSegments: 1,
      helpText: "Call 555-0100.",
      dailyLimit: 50,
      monthlyLimit: 900,
      tier: "premium",
    });
  });

  test("the schema refuses what cannot work: segments outside 1-10, a help text over 300, limits < 1 or daily > monthly", () => {
    const issues = (sms: unknown) =>
      tenantSettingsSchema.safeParse({ sms }).error?.issues.map((i) => i.path.join(".")) ?? [];
    expect(
      issues({ maxSegments: 1, helpText: "x".repeat(300), dailyLimit: 1, monthlyLimit: 1, tier: "free" }),
    ).toEqual([]);
    expect(issues({ maxSegments: 0 })).toEqual(["sms.maxSegments"]);
    expect(issues({ maxSegments: 11 })).toEqual(["sms.maxSegments"]);
    expect(issues({ maxSegments: 2.5 })).toEqual(["sms.maxSegments"]);
    expect(issues({ helpText: "x".repeat(301) })).toEqual(["sms.helpText"]);
    expect(issues({ helpText: "   " })).toEqual(["sms.helpText"]);
    expect(issues({ dailyLimit: 0 })).toEqual(["sms.dailyLimit"]);
    expect(issues({ dailyLimit: 100, monthlyLimit: 50 })).toEqual(["sms.dailyLimit"]);
    expect(issues({ tier: "gold" })).toEqual(["sms.tier"]);
    expect(issues({ sending: true })).toEqual(["sms"]);
  });

  test("business hours: the tenant's over the deployment's; a value that does not parse falls back", () => {
    const deployment = { ...(parseWeeklyHours("Mon-Fri 09:00-17:00") as BusinessHours), timeZone: "UTC" };
    const own = smsBusinessHours(
      { businessHours: { spec: "Sat 10:00-14:00", timeZone: "Europe/Berlin" } },
      deployment,
    );
    expect(own).toMatchObject({ days: new Set([6]), start: 600, end: 840, timeZone: "Europe/Berlin" });
    const bad = smsBusinessHours({ businessHours: { spec: "weekdays", timeZone: "Mars/Base" } }, deployment);
    expect(bad).toEqual(deployment);
  });
});

describe("notices: short, GSM-7, one segment", () => {
  const berlin = { ...(parseWeeklyHours("Mon-Fri 09:00-17:00") as BusinessHours), timeZone: "Europe/Berlin" };
  // 2026-03-06 is a Friday; Berlin is UTC+1 then.
  const at = (iso: string) => new Date(iso);

  test("handoff within hours: a person texts back shortly", () => {
    const notice = handoffNotice(settings(), at("2026-03-06T10:00:00Z"), berlin);
    expect(notice).toMatch(/person .* text you back here shortly/);
    oneGsmSegment(notice);
  });

  test("handoff after hours names when the team is back, in the business's time zone", () => {
    const friday = handoffNotice(settings(), at("2026-03-06T17:30:00Z"), berlin);
    expect(friday).toContain("once we open at 09:00 GMT+1 on Monday");
    const sunday = handoffNotice(settings(), at("2026-03-08T12:00:00Z"), berlin);
    expect(sunday).toContain("09:00 GMT+1 tomorrow");
    const early = handoffNotice(settings(), at("2026-03-06T06:00:00Z"), berlin);
    expect(early).toContain("09:00 GMT+1 today");
    for (const n of [friday, sunday, early]) oneGsmSegment(n);
  });

  test("handoff without configured hours promises no time; a business name leads when it fits", () => {
    const notice = handoffNotice(settings({ businessName: "Acme" }), at("2026-03-06T17:30:00Z"));
    expect(notice).toBe("Acme: Thanks. A person from our team will text you back here as soon as they can.");
    oneGsmSegment(
      handoffNotice(settings({ businessName: "N".repeat(120) }), at("2026-03-06T17:30:00Z"), berlin),
    );
  });

  test("the quota notice says which limit, from the argument or the only limit set", () => {
    expect(quotaNotice(settings(), "day")).toContain("today");
    expect(quotaNotice(settings({ monthlyLimit: 500 }))).toContain("this month");
    expect(quotaNotice(settings({ dailyLimit: 20 }))).toContain("tomorrow");
    for (const n of [quotaNotice(settings()), quotaNotice(settings(), "month")]) oneGsmSegment(n);
  });

  test("HELP is answered with the help text: the default in one segment, a tenant's GSM-7 300 whole", () => {
    oneGsmSegment(helpReply(smsSettingsOf({}, "Acme")));
    const own = `Acme support: ${"call 555-0100 or mail help@acme.example. ".repeat(7)}`.slice(0, 300).trim();
    expect(helpReply(settings({ helpText: own }))).toBe(own);
  });
});
