/**
 * `npm run secrets -- …`: the argv wrapper of scripts/secrets-core.ts. The secrets come from the
 * environment's stack definition (infra/environments.ts `secretsFor`) and the project from the site
 * configuration (infra/site.ts), so this lists exactly what `cdktf deploy <env>` created.
 * Authenticates with Application Default Credentials (`gcloud auth application-default login`).
 */
import { SecretManagerServiceClient } from "@google-cloud/secret-manager";
import { GoogleAuth } from "google-auth-library";
import { environments, secretsFor } from "../infra/environments";
import { ENVIRONMENT_NAMES, type EnvironmentName, loadSite } from "../infra/site";
import { parseArgs, runCommand, SecretsCliError, type SecretsContext, USAGE } from "./secrets-core";

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (args.command === "help") {
    process.stdout.write(USAGE);
    return 0;
  }
  const env = args.env as EnvironmentName | undefined;
  if (!env || !ENVIRONMENT_NAMES.includes(env)) {
    throw new SecretsCliError(`<env> must be one of ${ENVIRONMENT_NAMES.join(", ")}\n\n${USAGE}`);
  }
  const projectId = args.project ?? loadSite().environments[env].projectId;
  // Look the credentials up first: a missing login then gives one clear message, where the client library
  // would reject from inside its stub initialisation (an unhandled rejection with a stack trace).
  await new GoogleAuth({ scopes: "https://www.googleapis.com/auth/cloud-platform" })
    .getClient()
    .catch((error: unknown) => {
      throw new SecretsCliError(
        `no Google credentials: ${error instanceof Error ? error.message : String(error)}\n` +
          "Log in with `gcloud auth application-default login` (your own identity; never a key file).",
      );
    });
  const client = new SecretManagerServiceClient();
  const ctx: SecretsContext = {
    client,
    projectId,
    secrets: secretsFor(environments[env]),
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
  };
  try {
    return await runCommand(ctx, args);
  } finally {
    await client.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(
      error instanceof SecretsCliError || (error instanceof Error && error.name === "SiteConfigError")
        ? error.message
        : error,
    );
    process.exit(error instanceof SecretsCliError ? 2 : 1);
  },
);
