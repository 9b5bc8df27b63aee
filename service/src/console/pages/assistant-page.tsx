import type { Context } from "hono";
import type { Tenant } from "../../domain/tenant";
import type { AppEnv } from "../../http/app-env";
import { ADMIN_ROLES, consoleTenant } from "../access";
import type { ConsoleDeps } from "../deps";
import { Page } from "../layout";

type Variable = "businessName" | "hours" | "tone" | "escalationContact";

/** The prompt variables, as the settings name them, with what each is for. */
const VARIABLES: readonly { name: Variable; label: string; hint: string }[] = [
  { name: "businessName", label: "Business name", hint: "{{businessName}}: who the assistant answers for" },
  { name: "hours", label: "Opening hours", hint: "{{hours}}: e.g. Mon–Fri 9:00–17:00" },
  { name: "tone", label: "Tone", hint: "{{tone}}: e.g. friendly and brief" },
  {
    name: "escalationContact",
    label: "Escalation contact",
    hint: "{{escalationContact}}: how a customer reaches a person",
  },
];

const apiPath = (tenant: Tenant) => `/api/v1/admin/tenants/${tenant.id}/settings`;

/**
 * GET /console/t/:tenantId/assistant: the system prompt and its variables (saved through PATCH …/settings)
 * and the "try it" panel (assistant.js posts the form as a draft to POST …/settings/try: nothing saved).
 */
export async function assistantPage(c: Context<AppEnv>, deps: ConsoleDeps) {
  const { tenant } = await consoleTenant(c, deps.admin.sql, c.req.param("tenantId") ?? "", ADMIN_ROLES);
  return c.html(
    <Page
      c={c}
      title="Assistant"
      tenant={{ id: tenant.id, name: tenant.name }}
      section="assistant"
      scripts={["assistant.js"]}
    >
      <div class="grid">
        <section class="card" aria-labelledby="prompt-heading">
          <h2 id="prompt-heading">Prompt</h2>
          <PromptForm tenant={tenant} defaultPrompt={deps.admin.engineDefaults.systemPrompt} />
        </section>
        <TryPanel />
      </div>
    </Page>,
  );
}

function PromptForm(props: { tenant: Tenant; defaultPrompt: string }) {
  const { settings } = props.tenant;
  const variables = settings.promptVariables ?? {};
  return (
    <form id="prompt-form" class="stack" data-api={`PATCH ${apiPath(props.tenant)}`}>
      <p role="alert" class="error" tabindex={-1} />
      <label>
        System prompt
        <span class="hint" id="prompt-hint">
          Empty: the deployment's prompt (below). Variables in double braces are filled in; without any, the
          variables are added as sentences.
        </span>
        <textarea
          name="systemPrompt"
          rows={10}
          data-keep-empty
          aria-describedby="prompt-hint"
          placeholder={props.defaultPrompt}
        >
          {settings.systemPrompt ?? ""}
        </textarea>
      </label>
      <details>
        <summary>The deployment's prompt</summary>
        <pre>{props.defaultPrompt}</pre>
      </details>
      {VARIABLES.map((v) => (
        <label>
          {v.label}
          <span class="hint">{v.hint}</span>
          <input name={`promptVariables.${v.name}`} value={variables[v.name] ?? ""} maxlength={500} />
        </label>
      ))}
      <div>
        <button type="submit">Save</button> <span data-status aria-live="polite" />
      </div>
    </form>
  );
}

/** Runs the form's draft: the reply, the model, whether it was sure, and the prompt the draft makes. */
function TryPanel() {
  return (
    <section class="card" aria-labelledby="try-heading">
      <h2 id="try-heading">Try it</h2>
      <p class="muted">
        Asks the assistant one question with the settings in the form, saved or not. Nothing of it is saved;
        it is counted in usage as a try.
      </p>
      <form id="try-form" class="stack" data-try="prompt-form">
        <p role="alert" class="error" tabindex={-1} />
        <label>
          A customer's message
          <textarea name="message" rows={3} required maxlength={4000} />
        </label>
        <div>
          <button type="submit">Try it</button>
        </div>
      </form>
      <div id="try-result" aria-live="polite" hidden>
        <h3>Reply</h3>
        <p id="try-reply" class="try-reply" />
        <p class="muted">
          <span id="try-meta" />
        </p>
        <details>
          <summary>The prompt it used</summary>
          <pre id="try-prompt" />
        </details>
      </div>
    </section>
  );
}
