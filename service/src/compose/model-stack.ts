import { LocalKnowledgeProvider } from "../adapters/local-model";
import type { Config } from "../config";
import type { Sql } from "../db/client";
import { leaseModelQuota } from "../db/model-quota";
import { DeploymentModelLimiter } from "../engine/model-quota";
import { CircuitBreaker } from "../engine/resilience";
import { TenantDirectory } from "../engine/tenant-directory";
import { TenantEngines } from "../engine/tenant-engines";
import type { Logger } from "../logger";
import type { ModelProvider } from "../ports/model-provider";
import { engineSettings } from "./settings";

export interface ModelStack {
  provider: ModelProvider;
  breaker: CircuitBreaker;
  /** The engine of the tenant of each turn's unit of work. */
  engine: TenantEngines;
  tenants: TenantDirectory;
}

/** Gemini when a key or Vertex AI is configured (MODEL_PROVIDER=auto), else the named or the local one. */
export function providerName(config: Config): "gemini" | "gpt-trainer" | "local" {
  if (config.MODEL_PROVIDER !== "auto") return config.MODEL_PROVIDER;
  return config.GEMINI_API_KEY || config.GOOGLE_GENAI_USE_VERTEXAI ? "gemini" : "local";
}

// The vendor adapters are imported only when chosen: their SDKs cost start-up time.
async function buildProvider(
  config: Config,
  deps: { sql: Sql; log: Logger; local: LocalKnowledgeProvider },
): Promise<ModelProvider> {
  const wanted = providerName(config);
  if (wanted === "gemini") {
    const { GeminiProvider } = await import("../adapters/gemini");
    return new GeminiProvider({
      apiKey: config.GEMINI_API_KEY,
      vertex: config.GOOGLE_GENAI_USE_VERTEXAI
        ? { project: config.GOOGLE_CLOUD_PROJECT ?? "", location: config.GOOGLE_CLOUD_LOCATION }
        : undefined,
      baseUrl: config.GOOGLE_GEMINI_BASE_URL,
      timeoutMs: config.MODEL_TIMEOUT_MS,
      cache: config.CONTEXT_CACHE
        ? { sql: deps.sql, ttlSeconds: config.CONTEXT_CACHE_TTL_SECONDS }
        : undefined,
      log: deps.log,
    });
  }
  if (wanted === "gpt-trainer") {
    const { GptTrainerProvider } = await import("../adapters/gpt-trainer");
    return new GptTrainerProvider({
      apiKey: config.GPT_TRAINER_API_KEY ?? "",
      chatbotUuid: config.CHATBOT_UUID ?? "",
      baseUrl: config.GPT_TRAINER_API_BASE,
      timeoutMs: config.MODEL_TIMEOUT_MS,
      sql: deps.sql,
    });
  }
  return deps.local;
}

/**
 * The provider behind its circuit breaker and the deployment's model quota (shared by every instance
 * through the database), and the engine that uses them.
 */
export async function buildModelStack(config: Config, deps: { sql: Sql; log: Logger }): Promise<ModelStack> {
  // The offline provider is also every other provider's fallback: the best knowledge-base article.
  const local = new LocalKnowledgeProvider(deps.sql);
  const provider = await buildProvider(config, { ...deps, local });
  const breaker = new CircuitBreaker(
    provider.name,
    config.CIRCUIT_BREAKER_THRESHOLD,
    config.CIRCUIT_BREAKER_COOLDOWN_MS,
  );
  const limiter = new DeploymentModelLimiter({
    requestsPerMinute: config.MODEL_REQUESTS_PER_MINUTE,
    tokensPerMinute: config.MODEL_TOKENS_PER_MINUTE,
    queueTimeoutMs: config.MODEL_QUEUE_TIMEOUT_MS,
    tenantShare: config.MODEL_QUOTA_TENANT_SHARE,
    lease: leaseModelQuota(deps.sql),
  });
  const tenants = new TenantDirectory(deps.sql);
  const engine = new TenantEngines(
    {
      sql: deps.sql,
      provider,
      fallback: local,
      breaker,
      limiter,
      settings: engineSettings(config),
      log: deps.log,
    },
    tenants,
  );
  return { provider, breaker, engine, tenants };
}
