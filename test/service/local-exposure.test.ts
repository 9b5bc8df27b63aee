import { execFile } from "node:child_process";
import { stat } from "node:fs/promises";
import { connect } from "node:net";
import { dirname } from "node:path";
import { promisify } from "node:util";
import { describe, expect, test } from "vitest";
import { parseConfig } from "../../service/src/config";
import { openDatabase } from "../../service/src/db/client";

/** What a laptop or VM running Switchboard exposes to its network and to its other users. */

describe("listen address", () => {
  test("loopback by default; every interface on Cloud Run (K_SERVICE); HOST always wins", () => {
    expect(parseConfig({}).HOST).toBe("127.0.0.1");
    expect(parseConfig({ K_SERVICE: "switchboard" }).HOST).toBe("0.0.0.0");
    expect(parseConfig({ HOST: "0.0.0.0" }).HOST).toBe("0.0.0.0");
    expect(parseConfig({ HOST: "::1", K_SERVICE: "switchboard" }).HOST).toBe("::1");
  });
});

/** Tries the socket as another OS user (`nobody`): prints `connected` or the error code. */
async function connectAs(uid: number, gid: number, path: string): Promise<string> {
  const probe = `require("node:net").connect(${JSON.stringify(path)})
    .on("connect", () => { console.log("connected"); process.exit(0); })
    .on("error", (e) => { console.log(e.code); process.exit(0); });`;
  const { stdout } = await promisify(execFile)(process.execPath, ["-e", probe], { uid, gid, cwd: "/" });
  return stdout.trim();
}

const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;

describe("embedded database", () => {
  test("served on a Unix socket only this OS user can reach, and nothing else", async () => {
    const db = await openDatabase({});
    try {
      const path = db.socketPath ?? "";
      expect(path).not.toBe("");
      expect((await stat(path)).isSocket()).toBe(true);
      const dir = await stat(dirname(path));
      expect(dir.mode & 0o777).toBe(0o700);
      expect(dir.uid).toBe(process.getuid?.());
      expect((await db.sql`select 1 as ok`)[0]).toEqual({ ok: 1 });

      // This user reaches it...
      const mine = await new Promise<string>((resolve) => {
        const socket = connect(path)
          .on("connect", () => {
            socket.destroy();
            resolve("connected");
          })
          .on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? "error"));
      });
      expect(mine).toBe("connected");
      // ...another local user is refused, even knowing the path (only root can switch users to try it).
      if (isRoot) expect(await connectAs(NOBODY, NOBODY, path)).toBe("EACCES");
      else console.warn("not root: the other-user connection attempt is skipped");
    } finally {
      await db.close(1);
    }
    // Closing removes the socket's directory.
    await expect(stat(dirname(db.socketPath ?? ""))).rejects.toMatchObject({ code: "ENOENT" });
  });
});
