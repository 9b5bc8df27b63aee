import type { Sql } from "./client";

/** An AES-256-GCM envelope as stored: never the plain value. */
export interface SealedVersion {
  keyId: string;
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

export interface StoredVersion extends SealedVersion {
  version: number;
}

/** The latest version of a secret, or undefined when it has none. */
export async function latestSecretVersion(sql: Sql, secretId: string): Promise<StoredVersion | undefined> {
  const [row] = await sql<StoredVersion[]>`
    select version, key_id, iv, ciphertext, tag from secret_versions
    where secret_id = ${secretId} order by version desc limit 1`;
  return row;
}

/**
 * Adds the next version; `seal` gets that version number (it is part of the additional data). The
 * per-secret advisory lock orders concurrent writers, so two of them never pick the same number.
 */
export async function addSecretVersion(
  sql: Sql,
  secretId: string,
  seal: (version: number) => SealedVersion,
  opts: { replace?: boolean } = {},
): Promise<number> {
  return sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtext('secret_versions'), hashtext(${secretId}))`;
    const [last] = await tx<{ version: number | null }[]>`
      select max(version) as version from secret_versions where secret_id = ${secretId}`;
    const version = (last?.version ?? 0) + 1;
    const sealed = seal(version);
    await tx`
      insert into secret_versions (secret_id, version, key_id, iv, ciphertext, tag)
      values (${secretId}, ${version}, ${sealed.keyId}, ${sealed.iv}, ${sealed.ciphertext}, ${sealed.tag})`;
    // A rotation keeps only the new version: the old envelope goes in the same transaction.
    if (opts.replace)
      await tx`delete from secret_versions where secret_id = ${secretId} and version < ${version}`;
    return version;
  });
}

/** True when the secret has at least one version. */
export async function secretExists(sql: Sql, secretId: string): Promise<boolean> {
  const [row] = await sql<{ found: boolean }[]>`
    select exists (select 1 from secret_versions where secret_id = ${secretId}) as found`;
  return row?.found ?? false;
}

export async function deleteSecretVersions(sql: Sql, secretId: string): Promise<number> {
  const rows = await sql`delete from secret_versions where secret_id = ${secretId}`;
  return rows.count;
}
