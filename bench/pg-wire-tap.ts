/**
 * A TCP proxy in front of PostgreSQL that reads what clients send (the frontend half of the wire protocol)
 * and records every statement executed and every round trip, without touching the client's code.
 *
 * A round trip is a flight: what a connection sends after the server last answered it, up to the server's
 * next answer. Statements pipelined in one write (postgres.js sends the statements of `sql.begin(tx => [...])`
 * together) share a flight; a statement executed for the first time on a connection costs postgres.js an
 * extra flight (Parse + Describe, then Bind + Execute). Writes count the client's socket writes as they
 * arrive (TCP may merge two, so a floor).
 */
import { connect, createServer, type Socket } from "node:net";

export interface TappedStatement {
  /** Client connection number, from 1 in connection order. */
  connection: number;
  /** Flight number on that connection. */
  flight: number;
  /** The SQL text, whitespace collapsed; `(describe) …` for a Parse + Describe without an Execute. */
  sql: string;
}

export interface WireEvent {
  kind: "statement" | "flight" | "write";
  connection: number;
  statement?: TappedStatement;
}

export interface WireTap {
  /** The database URL with host and port pointed at the proxy (query parameters kept). */
  url: string;
  events: WireEvent[];
  /** Called for every event as it happens (to interleave them with other observations). */
  onEvent?: (event: WireEvent) => void;
  close(): Promise<void>;
}

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const collapse = (sql: string) => sql.replace(/\s+/g, " ").trim();

/** Parses the client → server byte stream of one connection and reports what it executes. */
function frontendParser(report: (sql: string, describeOnly: boolean) => void) {
  let buffer = Buffer.alloc(0);
  let startup = true;
  const named = new Map<string, string>();
  let unnamed = "";
  let bound = "";
  let parsedSinceExecute: string | undefined;
  const cstring = (data: Buffer, at: number) => {
    const end = data.indexOf(0, at);
    return { value: data.toString("utf8", at, end), next: end + 1 };
  };
  const message = (type: string, body: Buffer) => {
    if (type === "Q") report(cstring(body, 0).value, false);
    else if (type === "P") {
      const name = cstring(body, 0);
      const text = cstring(body, name.next).value;
      if (name.value) named.set(name.value, text);
      else unnamed = text;
      parsedSinceExecute = text;
    } else if (type === "B") {
      const portal = cstring(body, 0);
      const statement = cstring(body, portal.next).value;
      bound = statement ? (named.get(statement) ?? statement) : unnamed;
    } else if (type === "E") {
      report(bound, false);
      parsedSinceExecute = undefined;
    } else if ((type === "S" || type === "H") && parsedSinceExecute !== undefined) {
      // Parse + Describe then Flush/Sync without Execute: postgres.js learning a statement's types.
      report(parsedSinceExecute, true);
      parsedSinceExecute = undefined;
    }
  };
  return (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      if (startup) {
        if (buffer.length < 8) return;
        const length = buffer.readInt32BE(0);
        if (buffer.length < length) return;
        const code = buffer.readInt32BE(4);
        // After an SSL or GSS request comes the real startup message.
        startup = code === SSL_REQUEST || code === GSSENC_REQUEST;
        buffer = buffer.subarray(length);
        continue;
      }
      if (buffer.length < 5) return;
      const length = buffer.readInt32BE(1);
      if (buffer.length < length + 1) return;
      message(String.fromCharCode(buffer[0] ?? 0), buffer.subarray(5, length + 1));
      buffer = buffer.subarray(length + 1);
    }
  };
}

export async function startWireTap(databaseUrl: string): Promise<WireTap> {
  const target = new URL(databaseUrl);
  const sockets = new Set<Socket>();
  let connections = 0;
  const tap: WireTap = {
    url: "",
    events: [],
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const emit = (event: WireEvent) => {
    tap.events.push(event);
    tap.onEvent?.(event);
  };
  const server = createServer((client) => {
    const connection = ++connections;
    const upstream = connect(Number(target.port || 5432), target.hostname);
    sockets.add(client).add(upstream);
    let flight = 0;
    let answered = true;
    const parse = frontendParser((sql, describeOnly) =>
      emit({
        kind: "statement",
        connection,
        statement: { connection, flight, sql: `${describeOnly ? "(describe) " : ""}${collapse(sql)}` },
      }),
    );
    client.on("data", (chunk: Buffer) => {
      if (answered) {
        flight++;
        answered = false;
        emit({ kind: "flight", connection });
      }
      emit({ kind: "write", connection });
      parse(chunk);
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      answered = true;
      client.write(chunk);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("close", end).on("error", end);
    upstream.on("close", end).on("error", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const proxied = new URL(databaseUrl);
  proxied.hostname = "127.0.0.1";
  proxied.port = String(typeof address === "object" && address ? address.port : 0);
  tap.url = proxied.toString();
  return tap;
}
