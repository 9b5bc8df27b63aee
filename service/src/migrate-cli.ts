import { databaseTarget, loadConfig, readProcessEnv } from "./config";
import { openDatabase } from "./db/client";
import { migrate } from "./db/migrate";

// `npm run migrate`: the same migrations start-up applies, for running them ahead of a deploy.
const config = await loadConfig(readProcessEnv());
const target = databaseTarget(config);
const db = await openDatabase({
  ...target,
  poolMax: 1,
  dataDir: target.url || target.cloudSql ? undefined : `${config.DATA_DIR}/pglite`,
});
try {
  const { applied } = await migrate(db.sql);
  console.log(applied.length ? `applied: ${applied.join(", ")}` : "database is up to date");
} finally {
  await db.close();
}
