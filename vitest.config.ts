import { defineConfig } from "vitest/config";

// Projects so CI can re-run only the database-backed service suites on embedded PGlite
// (see .ci/run) while infra synth tests run once.
export default defineConfig({
  test: {
    // The database-restart test kills the service's connections; postgres.js 3.4 may then throw from a
    // timer outside any promise (porsager/postgres#1154, #1208). The service survives it (server.ts) and the
    // test asserts the outcome; only that exact driver error is ignored here, everything else still fails.
    onUnhandledError(error) {
      return !(error.name === "TypeError" && /postgres[\\/]src[\\/]connection\.js/.test(error.stack ?? ""));
    },
    projects: [
      {
        test: {
          name: "service",
          include: ["test/service/**/*.test.ts", "test/emulators/**/*.test.ts", "test/delivery/**/*.test.ts"],
          testTimeout: 30_000,
          hookTimeout: 60_000,
          pool: "forks",
        },
      },
      {
        // The chat widget and the console in Chromium; each file skips itself where /usr/bin/chromium is
        // missing. Their own project so CI's second pass (the database suites on PGlite) leaves them out.
        test: {
          name: "browser",
          include: ["test/browser/**/*.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          pool: "forks",
        },
      },
      {
        test: {
          name: "infra",
          include: ["test/infra/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          pool: "forks",
        },
      },
    ],
  },
});
