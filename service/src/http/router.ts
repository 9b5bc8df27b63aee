import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "./app-env";
import { AppError } from "./errors";

/** What @hono/zod-openapi hands the hook after validating a request part against its schema. */
type ValidationResult =
  | { success: true }
  | {
      success: false;
      error: { issues: readonly { path: PropertyKey[]; message: string }[] };
      target: string;
    };

/** Invalid input is a 400 `validation_failed` listing every offending field. */
export function validationHook(result: ValidationResult): void {
  if (result.success) return;
  const fields = result.error.issues.map((issue) => ({
    field: issue.path.map(String).join(".") || result.target,
    message: issue.message,
  }));
  throw new AppError(
    400,
    "validation_failed",
    `Invalid ${result.target}: ${fields.map((f) => `${f.field} ${f.message}`).join("; ")}`,
    { details: { fields } },
  );
}

/** A router of the app (or a sub-app of one concern) that validates with the shared hook. */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
}
