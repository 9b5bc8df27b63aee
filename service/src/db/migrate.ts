import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { Sql } from "./client";

export const MIGRATIONS_DIR = fileURLToPath(new URL("./migrations/", import.meta.url));

// Any constant works; it only has to be the same for every instance of this service.
const MIGRATION_LOCK_KEY = 0x5b_0a_4d;

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export async function loadMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => /^\d{5}_[a-z0-9_]+\.sql$/.test(f)).sort();
  return Promise.all(
    files.map(async (file) => {
      const text = await readFile(new URL(file, `file://${dir}`), "utf8");
      return {
        version: Number(file.slice(0, 5)),
        name: file.slice(6, -4),
        sql: text,
        checksum: createHash("sha256").update(text).digest("hex"),
      };
    }),
  );
}

/**
 * Applies pending migrations forward-only, in one transaction holding an advisory lock: when several
 * Cloud Run instances start together, one migrates and the others wait, then find nothing to do.
 * A changed checksum of an applied migration fails start-up: migrations are never edited once shipped.
 */
export async function migrate(sql: Sql, migrations?: Migration[]): Promise<{ applied: string[] }> {
  const all = migrations ?? (await loadMigrations());
  return sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`;
    await tx`
      create table if not exists schema_migrations (
        version integer primary key,
        name text not null,
        checksum text not null,
        applied_at timestamptz not null default now()
      )`;
    const done = await tx<{ version: number; checksum: string; name: string }[]>`
      select version, checksum, name from schema_migrations`;
    const byVersion = new Map(done.map((row) => [row.version, row]));
    const applied: string[] = [];
    for (const m of all) {
      const existing = byVersion.get(m.version);
      if (existing) {
        if (existing.checksum !== m.checksum) {
          throw new Error(`migration ${m.version}_${m.name} was changed after it was applied`);
        }
        continue;
      }
      await tx.unsafe(m.sql);
      await tx`insert into schema_migrations (version, name, checksum) values (${m.version}, ${m.name}, ${m.checksum})`;
      applied.push(`${String(m.version).padStart(5, "0")}_${m.name}`);
    }
    return { applied };
  });
}
