import { connect, type Socket } from "node:net";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { databaseTarget, parseConfig } from "../../service/src/config";
import { type CloudSqlConnector, openDatabase } from "../../service/src/db/client";
import { configIssues } from "./helpers";

/**
 * Cloud SQL through the Cloud SQL connector. A real instance cannot be reached from here, so the connector
 * is replaced at its seam by a fake whose streams are plain sockets to a local PGlite: what is checked is
 * what the service asks of the connector and hands to postgres.js.
 */

let pglite: PGlite;
let server: PGLiteSocketServer;
let address: { host: string; port: number };

beforeAll(async () => {
  pglite = await PGlite.create("memory://");
  server = new PGLiteSocketServer({ db: pglite, host: "127.0.0.1", port: 0, maxConnections: 8 });
  await server.start();
  const [host = "", port = ""] = server.getServerConn().split(":");
  address = { host, port: Number(port) };
});
afterAll(async () => {
  await server?.stop();
  await pglite?.close();
});

/** Records what it is asked, and the first bytes postgres.js writes on each stream it opens. */
class FakeConnector implements CloudSqlConnector {
  readonly asked: unknown[] = [];
  readonly streams: Socket[] = [];
  readonly firstWrites: Buffer[] = [];
  closed = false;

  async getOptions(opts: Parameters<CloudSqlConnector["getOptions"]>[0]) {
    this.asked.push(opts);
    return {
      stream: () => {
        const socket = connect(address.port, address.host);
        const write = socket.write.bind(socket) as (chunk: Buffer, ...rest: unknown[]) => boolean;
        let first = true;
        socket.write = ((chunk: Buffer, ...rest: unknown[]) => {
          if (first) this.firstWrites.push(Buffer.from(chunk));
          first = false;
          return write(chunk, ...rest);
        }) as Socket["write"];
        this.streams.push(socket);
        return socket;
      },
    };
  }

  close() {
    this.closed = true;
  }
}

const SSL_REQUEST = 80877103;
const PROTOCOL_3 = 196608;

describe("Cloud SQL connector", () => {
  test("IAM auth on the private IP; a new connector stream per connection; postgres.js adds no TLS of its own", async () => {
    const fake = new FakeConnector();
    const db = await openDatabase({
      cloudSql: {
        instance: "acme-prod:europe-west1:switchboard",
        user: "switchboard-run@acme-prod.iam",
        database: "switchboard",
        connector: () => fake,
      },
      poolMax: 3,
    });
    try {
      expect(fake.asked).toEqual([
        { instanceConnectionName: "acme-prod:europe-west1:switchboard", ipType: "PRIVATE", authType: "IAM" },
      ]);
      // Two connections held at once: each must be a stream of its own.
      const [a, b] = await Promise.all([db.sql.reserve(), db.sql.reserve()]);
      expect(await a`select 1 as one`).toEqual([{ one: 1 }]);
      expect(await b`select 2 as two`).toEqual([{ two: 2 }]);
      a.release();
      b.release();
      expect(fake.streams).toHaveLength(2);
      expect(fake.streams[0]).not.toBe(fake.streams[1]);

      // The first message on every stream is the startup message for the IAM user, not an SSLRequest.
      expect(fake.firstWrites).toHaveLength(2);
      for (const first of fake.firstWrites) {
        expect(first.readInt32BE(4)).not.toBe(SSL_REQUEST);
        expect(first.readInt32BE(4)).toBe(PROTOCOL_3);
        const params = first.subarray(8).toString("utf8").split("\0");
        expect(params[params.indexOf("user") + 1]).toBe("switchboard-run@acme-prod.iam");
        expect(params[params.indexOf("database") + 1]).toBe("switchboard");
      }
    } finally {
      await db.close(1);
    }
    expect(fake.closed).toBe(true);
  });

  test("the ip type is passed on", async () => {
    const fake = new FakeConnector();
    const db = await openDatabase({
      cloudSql: { instance: "p:r:i", ipType: "PSC", user: "u@p.iam", database: "d", connector: () => fake },
    });
    await db.close(1);
    expect(fake.asked).toEqual([{ instanceConnectionName: "p:r:i", ipType: "PSC", authType: "IAM" }]);
  });

  test("a connector that cannot load the instance fails start-up, and is closed", async () => {
    const fake = new FakeConnector();
    fake.getOptions = async () => {
      throw new Error("instance not found");
    };
    await expect(
      openDatabase({
        cloudSql: { instance: "p:r:i", user: "u@p.iam", database: "d", connector: () => fake },
      }),
    ).rejects.toThrow("instance not found");
    expect(fake.closed).toBe(true);
  });
});

describe("Cloud SQL configuration", () => {
  const issues = configIssues;

  test("CLOUD_SQL_INSTANCE, DATABASE_USER and DATABASE_NAME select the connector, on the private IP by default", () => {
    const config = parseConfig({
      CLOUD_SQL_INSTANCE: "acme-prod:europe-west1:switchboard",
      DATABASE_USER: "switchboard-run@acme-prod.iam",
      DATABASE_NAME: "switchboard",
    });
    expect(databaseTarget(config)).toEqual({
      url: undefined,
      cloudSql: {
        instance: "acme-prod:europe-west1:switchboard",
        ipType: "PRIVATE",
        user: "switchboard-run@acme-prod.iam",
        database: "switchboard",
      },
    });
    expect(databaseTarget(parseConfig({ DATABASE_URL: "postgres://db/x" }))).toEqual({
      url: "postgres://db/x",
      cloudSql: undefined,
    });
  });

  test("missing or conflicting settings are named", () => {
    expect(issues({ CLOUD_SQL_INSTANCE: "acme-prod:europe-west1:switchboard" })).toEqual([
      "DATABASE_USER: is required when CLOUD_SQL_INSTANCE is set",
      "DATABASE_NAME: is required when CLOUD_SQL_INSTANCE is set",
    ]);
    expect(
      issues({
        CLOUD_SQL_INSTANCE: "acme-prod:europe-west1:switchboard",
        DATABASE_USER: "u@p.iam",
        DATABASE_NAME: "d",
        DATABASE_URL: "postgres://db/x",
      }),
    ).toEqual(["DATABASE_URL: set either DATABASE_URL or CLOUD_SQL_INSTANCE, not both"]);
    expect(issues({ CLOUD_SQL_INSTANCE: "switchboard", DATABASE_USER: "u", DATABASE_NAME: "d" })).toEqual([
      'CLOUD_SQL_INSTANCE: must be "project:region:instance" (got "switchboard")',
    ]);
    expect(issues({ CLOUD_SQL_IP_TYPE: "private-ish" })[0]).toMatch(/^CLOUD_SQL_IP_TYPE:/);
  });

  test("the removed DATABASE_IAM_AUTH is refused with the way forward, not silently ignored", () => {
    const [issue] = issues({
      DATABASE_URL: "postgres://u@10.0.0.3/x?sslmode=require",
      DATABASE_IAM_AUTH: "true",
    });
    expect(issue).toMatch(/^DATABASE_IAM_AUTH: .*CLOUD_SQL_INSTANCE, DATABASE_USER and DATABASE_NAME/);
    expect(() => parseConfig({ DATABASE_IAM_AUTH: "false" })).not.toThrow();
  });
});
