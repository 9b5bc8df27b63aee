import type postgres from "postgres";

/** The postgres.js client as the service uses it (camelCase columns). */
export type Sql = postgres.Sql<Record<string, unknown>>;
export type TransactionSql = postgres.TransactionSql<Record<string, unknown>>;
