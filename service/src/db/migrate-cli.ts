import { loadConfig, readProcessEnv } from "../config";
import { openDatabase } from "./client";
import { migrate } from "./migrate";

// `npm run migrate`: the same migrations start-up applies, for running them ahead of a deploy.
const config = await loadConfig(readProcessEnv());
const db = await openDatabase({
  url: config.DATABASE_URL,
  poolMax: 1,
  iamAuth: config.DATABASE_IAM_AUTH,
  dataDir: config.DATABASE_URL ? undefined : `${config.DATA_DIR}/pglite`,
});
try {
  const { applied } = await migrate(db.sql);
  console.log(applied.length ? `applied: ${applied.join(", ")}` : "database is up to date");
} finally {
  await db.close();
}
