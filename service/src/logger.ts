import pino, { type Logger } from "pino";
import { type LogRedactor, logRedactor } from "./log-privacy";
import { redactPii } from "./redaction";

export type { Logger } from "pino";

// Cloud Logging reads `severity` and `message` from JSON lines on stdout.
// https://cloud.google.com/logging/docs/structured-logging
const SEVERITY: Record<string, string> = {
  trace: "DEBUG",
  debug: "DEBUG",
  info: "INFO",
  warn: "WARNING",
  error: "ERROR",
  fatal: "CRITICAL",
};

/**
 * Error Reporting groups the log entries that carry this `@type`, a `serviceContext` and a stack trace
 * (`stack_trace` is read before `message`). https://cloud.google.com/error-reporting/docs/formatting-error-messages
 */
const REPORTED_ERROR_EVENT =
  "type.googleapis.com/google.devtools.clouderrorreporting.v1beta1.ReportedErrorEvent";
const ERROR_LEVEL = pino.levels.values.error ?? 50;

export interface ServiceContext {
  service: string;
  version: string;
}

export interface LoggerOptions {
  level: string;
  /** Where lines go; stdout by default. Tests pass a stream to read them. */
  destination?: pino.DestinationStream;
  /** Names this deployment in Error Reporting. @default { service: "switchboard", version: "unknown" } */
  serviceContext?: ServiceContext;
  /** Keys the hash of identity ids that embed personal data; a random key per process without it. */
  identityHashKey?: string | undefined;
}

const redactText = (text: string) => redactPii(text).text;

export function createLogger({
  level,
  destination,
  serviceContext = { service: "switchboard", version: "unknown" },
  identityHashKey,
}: LoggerOptions): Logger {
  const redactFields = logRedactor(identityHashKey);
  const logger = pino(
    {
      level,
      messageKey: "message",
      errorKey: "error",
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ severity: SEVERITY[label] ?? "DEFAULT" }),
        // Credentials and personal data in fields (log-privacy.ts), in one walk of each line's object.
        log: redactFields,
      },
      hooks: {
        // Messages may quote upstream errors that echo user text: redact PII on the way out.
        logMethod(args, method) {
          method.apply(this, redactArguments(args) as Parameters<typeof method>);
        },
      },
      // Error lines become Error Reporting events, with the (redacted) stack so they can be grouped.
      // Warnings (a retried upstream failure, a database restart) stay out of it.
      mixin(fields, levelValue) {
        const error = (fields as { error?: unknown }).error;
        if (levelValue < ERROR_LEVEL || !(error instanceof Error) || !error.stack) return {};
        return { "@type": REPORTED_ERROR_EVENT, serviceContext, stack_trace: redactText(error.stack) };
      },
      serializers: {
        error: (err: unknown) => {
          if (!(err instanceof Error)) return err;
          return { type: err.name, message: redactText(err.message) };
        },
      },
    },
    destination,
  );
  return redactingBindings(logger, redactFields);
}

/**
 * Child-logger bindings pass the same redaction: pino's `formatters.bindings` shapes only the root's
 * bindings, so the root's `child` is wrapped (children are created from their parent and inherit it).
 */
function redactingBindings(logger: Logger, redactFields: LogRedactor): Logger {
  const child = logger.child;
  logger.child = function redactedChild(this: Logger, bindings, options) {
    return child.call(this, redactFields(bindings), options);
  } as Logger["child"];
  return logger;
}

/** `log.error(err)` and `log.error(err, "…")` carry the error as a field; every string is redacted. */
function redactArguments(args: unknown[]): unknown[] {
  const [first, ...rest] = args;
  if (first instanceof Error) {
    const message = typeof rest[0] === "string" ? rest.shift() : first.message;
    return [{ error: first }, redactMessage(message as string), ...rest.map(redactArgument)];
  }
  return args.map(redactArgument);
}

const redactArgument = (arg: unknown) => (typeof arg === "string" ? redactMessage(arg) : arg);

/**
 * Most messages repeat word for word ("model usage", "POST /api/v1/chat 200"), and a digit is enough to
 * send one through every PII detector: a message found clean is remembered and not scanned again. Only
 * clean, short messages are kept, so the set holds no personal data; it is emptied when full.
 */
const CLEAN_MESSAGES_MAX = 1000;
const CLEAN_MESSAGE_MAX_LENGTH = 200;
const cleanMessages = new Set<string>();
function redactMessage(message: string): string {
  if (cleanMessages.has(message)) return message;
  const redacted = redactText(message);
  if (redacted === message && message.length <= CLEAN_MESSAGE_MAX_LENGTH) {
    if (cleanMessages.size >= CLEAN_MESSAGES_MAX) cleanMessages.clear();
    cleanMessages.add(message);
  }
  return redacted;
}

/** `X-Cloud-Trace-Context: TRACE_ID/SPAN_ID;o=1` or W3C `traceparent` → Cloud Logging trace fields. */
export function traceFields(
  headers: { cloudTrace?: string | undefined; traceparent?: string | undefined },
  project: string | undefined,
): Record<string, string | boolean> {
  if (!project) return {};
  let traceId: string | undefined;
  let spanId: string | undefined;
  let sampled = false;
  if (headers.cloudTrace) {
    const match = /^([0-9a-f]{32})(?:\/(\d+))?(?:;o=(\d))?/i.exec(headers.cloudTrace);
    traceId = match?.[1];
    spanId = match?.[2];
    sampled = match?.[3] === "1";
  } else if (headers.traceparent) {
    const match = /^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/i.exec(headers.traceparent);
    traceId = match?.[1];
    spanId = match?.[2];
    sampled = match?.[3] === "01";
  }
  if (!traceId) return {};
  return {
    "logging.googleapis.com/trace": `projects/${project}/traces/${traceId}`,
    ...(spanId ? { "logging.googleapis.com/spanId": spanId } : {}),
    "logging.googleapis.com/trace_sampled": sampled,
  };
}
