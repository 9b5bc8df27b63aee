/**
 * The console's conversation list at 1,000 and at 10,000 conversations of a tenant, as a ratio (not a
 * test; `npx tsx bench/console-list.ts`, on the database TEST_DATABASE_URL names, else embedded PGlite).
 *
 * Two tenants in one database, seeded alike (test/service/console-conversations-seed.ts) with 1k and 10k
 * conversations. For each, the median time of a page request through the real service: the first page,
 * a page 2,000 rows deep (the keyset cursor), and a channel-filtered page. Keyset pagination reads one
 * page's rows from the index whatever the tenant's size, so the ratio should stay near 1; an offset or a
 * sort of the tenant's sessions would make it grow with the tenant.
 */
import { adminSuite, createTenant } from "../test/service/admin-helpers";
import { seedConversations } from "../test/service/console-conversations-seed";
import { consoleHeaders, consoleLogin } from "../test/service/console-helpers";
import { raw } from "../test/service/helpers";
import { median, writeResult } from "./lib";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 30);
const { svc, db, stop } = await adminSuite();

async function tenantOf(size: number) {
  const id = (await createTenant(svc, `list-${size}`)).id as string;
  await seedConversations(db, id, { n: size, marker: `t${size}` });
  const login = await consoleLogin(db, { role: "agent", tenantId: id });
  const [deep] = await raw(db)<{ at: string; id: string }[]>`
    select updated_at::text as at, id::text from sessions where tenant_id = ${id}
    order by updated_at desc, id desc offset ${Math.min(2000, size / 2)} limit 1`;
  const after = Buffer.from(`${deep?.at}|${deep?.id}`).toString("base64url");
  const base = `${svc.url}/console/t/${id}/conversations`;
  return { login, urls: { first: base, deep: `${base}?after=${after}`, filtered: `${base}?channel=sms` } };
}

async function timed(url: string, headers: Record<string, string>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const started = performance.now();
    const res = await fetch(url, { headers });
    await res.text();
    if (res.status !== 200) throw new Error(`${url}: ${res.status}`);
    samples.push(performance.now() - started);
  }
  return median(samples);
}

try {
  const small = await tenantOf(1_000);
  const large = await tenantOf(10_000);
  const figures: Record<string, { ms1k: number; ms10k: number; ratio: number }> = {};
  for (const page of ["first", "deep", "filtered"] as const) {
    const ms1k = await timed(small.urls[page], consoleHeaders(small.login));
    const ms10k = await timed(large.urls[page], consoleHeaders(large.login));
    figures[page] = { ms1k: round(ms1k), ms10k: round(ms10k), ratio: round(ms10k / ms1k) };
  }
  console.log(JSON.stringify(writeResult("console-list", { rounds: ROUNDS, pages: figures }), null, 2));
} finally {
  await stop();
}

function round(n: number) {
  return Math.round(n * 100) / 100;
}
