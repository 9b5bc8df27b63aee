import type { Logger } from "../logger";
import type { AdminDeps } from "../routes/admin/deps";
import type { ConsoleSessions } from "./session";
import type { SignInOptions } from "./sign-in/options";

/** What the console is built from (compose/http-app.ts hands it in). */
export interface ConsoleDeps {
  /** What the admin API is built from: the console reads and acts through the very same parts. */
  admin: Omit<AdminDeps, "auth" | "adminApiKey">;
  sessions: ConsoleSessions;
  log: Logger;
  /** How people sign in (console/sign-in/); absent: the sign-in page says none is configured. */
  signIn?: SignInOptions | undefined;
}
