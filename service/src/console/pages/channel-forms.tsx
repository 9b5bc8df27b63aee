import { tenantPath } from "../layout";
import { ApiForm, adminApi, ShownOnce } from "./admin-parts";

/**
 * The forms that connect a channel (POST …/channels of routes/admin/channel-kinds.ts): one per kind, its
 * fields those the kind's schema asks for. Credentials are password fields and never shown back.
 */

interface Field {
  name: string;
  label: string;
  hint?: string;
  secret?: boolean;
  optional?: boolean;
  pattern?: string;
}

const PHONE: Field = { name: "phoneNumber", label: "Phone number", hint: "E.164, e.g. +15551234567" };

const KINDS: { kind: string; title: string; fields: Field[]; hint: string }[] = [
  {
    kind: "twilio",
    title: "Twilio number",
    hint: "Then set the number's “A message comes in” webhook (HTTP POST) to the webhook URL shown.",
    fields: [
      PHONE,
      { name: "accountSid", label: "Account SID", hint: "AC followed by 32 hex digits" },
      { name: "authToken", label: "Auth token", secret: true },
    ],
  },
  {
    kind: "telnyx",
    title: "Telnyx number",
    hint: "Then set the messaging profile's webhook URL; the voice assistant's URLs are shown once.",
    fields: [
      PHONE,
      { name: "apiKey", label: "API key (v2)", secret: true },
      { name: "publicKey", label: "Public key", hint: "Ed25519, base64 (Keys & Credentials)" },
      { name: "messagingProfileId", label: "Messaging profile id", optional: true },
    ],
  },
  {
    kind: "voxie",
    title: "Voxie number",
    hint: "Then point the Voxie team's inbound webhook at the webhook URL shown.",
    fields: [PHONE, { name: "teamId", label: "Team id" }, { name: "apiKey", label: "API key", secret: true }],
  },
  {
    kind: "intercom",
    title: "Intercom workspace",
    hint: "Then subscribe the app's webhooks (conversation topics) to the webhook URL shown.",
    fields: [
      { name: "appId", label: "App (workspace) id" },
      { name: "clientSecret", label: "Client secret", secret: true },
      { name: "accessToken", label: "Access token", secret: true },
      { name: "adminId", label: "Bot admin id", optional: true, hint: "Default: the token's owner" },
    ],
  },
];

function FieldInput(props: { kind: string; field: Field }) {
  const { kind, field } = props;
  const id = `${kind}-${field.name}`;
  return (
    <label for={id}>
      {field.label}
      {field.optional ? " (optional)" : ""}
      <input
        id={id}
        name={field.name}
        type={field.secret ? "password" : "text"}
        autocomplete={field.secret ? "new-password" : "off"}
        required={!field.optional}
        aria-describedby={field.hint ? `${id}-hint` : undefined}
      />
      {field.hint ? (
        <span class="hint" id={`${id}-hint`}>
          {field.hint}
        </span>
      ) : null}
    </label>
  );
}

/** One <details> per kind: closed by default, so the page leads with what is connected. */
export function AddChannelForms(props: { tenantId: string }) {
  return (
    <>
      {KINDS.map((k) => (
        <details class="card">
          <summary>{`Add a ${k.title}`}</summary>
          <p class="hint">{k.hint}</p>
          <ApiForm
            api={`POST ${adminApi(props.tenantId, "channels")}`}
            label={`Add a ${k.title}`}
            next={k.kind === "telnyx" ? undefined : "reload"}
            result={k.kind === "telnyx" ? "telnyx-created" : undefined}
          >
            <input type="hidden" name="kind" value={k.kind} />
            {k.fields.map((f) => (
              <FieldInput kind={k.kind} field={f} />
            ))}
            <button type="submit">{`Connect ${k.title}`}</button>
          </ApiForm>
          {k.kind === "telnyx" ? (
            <ShownOnce
              id="telnyx-created"
              label="Connected. The voice assistant's dynamic-variables URL holds a secret token."
            >
              <a href={tenantPath(props.tenantId, "channels")}>Done</a>
            </ShownOnce>
          ) : null}
        </details>
      ))}
    </>
  );
}

/**
 * Gmail: a plain GET form to the admin API, which answers with a redirect to Google's consent screen (no
 * script needed). The address is required: an empty `loginHint` would be refused as not an e-mail address.
 */
export function ConnectGmail(props: { tenantId: string; configured: boolean }) {
  if (!props.configured)
    return (
      <p class="card muted">
        Gmail: e-mail is not configured on this deployment (GOOGLE_OAUTH_CLIENT_ID; see docs/email.md).
      </p>
    );
  return (
    <details class="card">
      <summary>Connect a Gmail mailbox</summary>
      <form class="stack" method="get" action={adminApi(props.tenantId, "email/connect")}>
        <label for="gmail-hint">
          Mailbox address
          <input id="gmail-hint" name="loginHint" type="email" required autocomplete="off" />
        </label>
        <button type="submit">Continue to Google</button>
      </form>
    </details>
  );
}
