import type { Context } from "hono";
import { raw } from "hono/html";
import { getDocument, listDocuments, type StoredDocument } from "../../db/knowledge";
import {
  type DocumentAnswers,
  documentAnswerCounts,
  type UnansweredQuestion,
  unansweredQuestions,
} from "../../db/knowledge-answers";
import { inTenant } from "../../db/tenant-scope";
import type { Tenant } from "../../domain/tenant";
import type { AppEnv } from "../../http/app-env";
import { AppError } from "../../http/errors";
import { ADMIN_ROLES, consoleTenant } from "../access";
import type { ConsoleDeps } from "../deps";
import { Page, tenantPath } from "../layout";
import { renderMarkdown } from "../markdown";

const apiPath = (tenant: Tenant, slug = "") =>
  `/api/v1/admin/tenants/${tenant.id}/knowledge${slug ? `/${slug}` : ""}`;
const when = (d: Date) => new Date(d).toISOString().slice(0, 16).replace("T", " ");

/** GET /console/t/:tenantId/knowledge: the documents and a form for a new one (knowledge.js sends it). */
export async function knowledgeListPage(c: Context<AppEnv>, deps: ConsoleDeps) {
  const { sql } = deps.admin;
  const { tenant } = await consoleTenant(c, sql, c.req.param("tenantId") ?? "", ADMIN_ROLES);
  const since = new Date(Date.now() - 30 * 86_400_000);
  const { documents, answers, unanswered } = await inTenant(tenant.id, async () => ({
    documents: await listDocuments(sql),
    answers: await documentAnswerCounts(sql, since),
    unanswered: await unansweredQuestions(sql, since, 20),
  }));
  return c.html(
    <Page
      c={c}
      title="Knowledge"
      tenant={{ id: tenant.id, name: tenant.name }}
      section="knowledge"
      scripts={["knowledge.js"]}
    >
      <DocumentTable tenant={tenant} documents={documents} answers={answers} />
      <Unanswered questions={unanswered} />
      <section class="card" id="new" aria-labelledby="new-heading">
        <h2 id="new-heading">New document</h2>
        <NewDocumentForm tenant={tenant} />
      </section>
    </Page>,
  );
}

function DocumentTable(props: { tenant: Tenant; documents: StoredDocument[]; answers: DocumentAnswers[] }) {
  const answers = new Map(props.answers.map((a) => [a.source, a]));
  if (props.documents.length === 0)
    return (
      <p class="card">No documents yet: the assistant has nothing to answer from. Write the first below.</p>
    );
  return (
    <div class="table-wrap">
      <table>
        <caption class="muted">What the assistant answers from, by name</caption>
        <thead>
          <tr>
            <th scope="col">Title</th>
            <th scope="col">Name</th>
            <th scope="col">From</th>
            <th scope="col">Changed (UTC)</th>
            <th scope="col">Answered (30 days)</th>
          </tr>
        </thead>
        <tbody>
          {props.documents.map((d) => (
            <tr>
              <td>
                <a href={tenantPath(props.tenant.id, `knowledge/${d.slug}`)}>{d.title}</a>
              </td>
              <td>
                <code>{d.slug}</code>
              </td>
              <td>{d.origin === "files" ? "the deployment's files" : "the console or API"}</td>
              <td>{when(d.updatedAt)}</td>
              <td>
                <Answered answers={answers.get(d.slug)} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** "answered N questions", with the latest few of them to see what people ask it for. */
function Answered(props: { answers: DocumentAnswers | undefined }) {
  const a = props.answers;
  if (!a) return <span class="muted">none</span>;
  const label = `${a.answered} ${a.answered === 1 ? "question" : "questions"}`;
  if (a.examples.length === 0) return <span>{label}</span>;
  return (
    <details>
      <summary>{label}</summary>
      <ul>
        {a.examples.map((q) => (
          <li>{q}</li>
        ))}
      </ul>
    </details>
  );
}

/** What the assistant could not answer lately: what to write next. */
function Unanswered(props: { questions: UnansweredQuestion[] }) {
  return (
    <section class="card" aria-labelledby="unanswered-heading">
      <h2 id="unanswered-heading">Questions it could not answer (30 days)</h2>
      {props.questions.length === 0 ? (
        <p class="muted">None: every question had a confident answer.</p>
      ) : (
        <ul class="unanswered">
          {props.questions.map((q) => (
            <li>
              <span>{q.question}</span>{" "}
              <span class="muted">
                ({q.channel}, {when(q.askedAt)})
              </span>
            </li>
          ))}
        </ul>
      )}
      <p>
        <a href="#new">Write a document</a> that answers them.
      </p>
    </section>
  );
}

function NewDocumentForm(props: { tenant: Tenant }) {
  return (
    <form
      class="stack"
      data-create={apiPath(props.tenant)}
      data-edit={tenantPath(props.tenant.id, "knowledge")}
    >
      <p role="alert" class="error" tabindex={-1} />
      <label>
        Name
        <span class="hint">Lowercase letters, digits and "-"; part of the page's address</span>
        <input name="slug" required pattern="[a-z0-9](?:[a-z0-9\-]{0,62}[a-z0-9])?" maxlength={64} />
      </label>
      <label>
        Title
        <input name="title" required maxlength={200} />
      </label>
      <label>
        Text (Markdown)
        <textarea name="body" rows={8} required />
      </label>
      <div>
        <button type="submit">Create</button>
      </div>
    </form>
  );
}

/**
 * GET /console/t/:tenantId/knowledge/:slug: the Markdown in a textarea (saved with PUT …/knowledge/:slug),
 * its preview rendered here (knowledge.js refreshes it from the draft), and deleting it.
 */
export async function knowledgeEditPage(c: Context<AppEnv>, deps: ConsoleDeps) {
  const { sql } = deps.admin;
  const { tenant } = await consoleTenant(c, sql, c.req.param("tenantId") ?? "", ADMIN_ROLES);
  const slug = c.req.param("slug") ?? "";
  const doc = await inTenant(tenant.id, () => getDocument(sql, slug));
  if (!doc) throw new AppError(404, "not_found", "There is no such document.");
  const listPath = tenantPath(tenant.id, "knowledge");
  return c.html(
    <Page
      c={c}
      title={doc.title}
      tenant={{ id: tenant.id, name: tenant.name }}
      section="knowledge"
      scripts={["knowledge.js"]}
    >
      <p>
        <a href={listPath}>All documents</a>
      </p>
      <div class="grid">
        <section class="card" aria-labelledby="edit-heading">
          <h2 id="edit-heading">Markdown</h2>
          <EditForm tenant={tenant} doc={doc} />
        </section>
        <section class="card" aria-labelledby="preview-heading">
          <h2 id="preview-heading">Preview</h2>
          <div id="preview" class="markdown" aria-live="polite">
            {raw(renderMarkdown(doc.body))}
          </div>
        </section>
      </div>
      <form
        class="inline"
        data-api={`DELETE ${apiPath(tenant, doc.slug)}`}
        data-confirm={`Delete "${doc.title}"? The assistant stops answering from it at once.`}
        data-next={listPath}
      >
        <p role="alert" class="error" tabindex={-1} />
        <button type="submit" class="danger">
          Delete this document
        </button>
      </form>
    </Page>,
  );
}

function EditForm(props: { tenant: Tenant; doc: StoredDocument }) {
  const { tenant, doc } = props;
  return (
    <form
      id="document-form"
      class="stack"
      data-api={`PUT ${apiPath(tenant, doc.slug)}`}
      data-preview={`${tenantPath(tenant.id, "knowledge-preview")}`}
    >
      <p role="alert" class="error" tabindex={-1} />
      <label>
        Title
        <input name="title" required maxlength={200} value={doc.title} />
      </label>
      <label>
        Text (Markdown)
        <textarea name="body" rows={18} required>
          {doc.body}
        </textarea>
      </label>
      {doc.origin === "files" ? (
        <p class="hint">
          From the deployment's files: saving here makes it the console's copy, which the files no longer
          replace.
        </p>
      ) : null}
      <div>
        <button type="submit">Save</button>{" "}
        <button type="button" class="secondary" data-preview-button>
          Preview
        </button>{" "}
        <span data-status aria-live="polite" />
      </div>
    </form>
  );
}

/** POST /console/t/:tenantId/knowledge-preview `{ body }`: a draft's Markdown as the preview's HTML. */
export async function knowledgePreview(c: Context<AppEnv>, deps: ConsoleDeps) {
  await consoleTenant(c, deps.admin.sql, c.req.param("tenantId") ?? "", ADMIN_ROLES);
  const input = (await c.req.json().catch(() => null)) as { body?: unknown } | null;
  if (typeof input?.body !== "string" || input.body.length > deps.admin.documentMaxBytes)
    throw new AppError(400, "validation_failed", "body: the document's Markdown, at most the document size");
  return c.json({ html: renderMarkdown(input.body) });
}
