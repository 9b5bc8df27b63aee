import { pathToFileURL } from "node:url";
import { startService } from "./compose/service";
import { ConfigError, readProcessEnv } from "./config";

/**
 * The entry point (`npm start`, the bundle): read the environment, start the service (compose/service.ts)
 * and exit 1 with the reason when it cannot start. Tests start it in-process through the same seam.
 */
export { type RunningService, type StartOptions, startService } from "./compose/service";

const isEntry = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isEntry) {
  startService(readProcessEnv(), { handleSignals: true }).catch((error: unknown) => {
    if (error instanceof ConfigError) {
      console.error(error.message);
    } else {
      console.error("Switchboard failed to start:", error instanceof Error ? error.message : error);
    }
    process.exit(1);
  });
}
