// The knowledge pages (console/pages/knowledge-pages.tsx). A new document is sent to PUT
// …/knowledge/<name> (the name is part of the path, so console.js's fixed data-api cannot send it), then
// its page opens. The Preview button renders the draft on the server (markdown-it, HTML in the source
// escaped) and puts that markup, and only that, into the preview.
(() => {
  const { api } = window.Switchboard;

  const create = document.querySelector("form[data-create]");
  create?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const alert = create.querySelector("[role=alert]");
    alert.textContent = "";
    const { slug, title, body } = create.elements;
    try {
      await api("PUT", `${create.dataset.create}/${encodeURIComponent(slug.value)}`, {
        title: title.value,
        body: body.value,
      });
      window.location.assign(`${create.dataset.edit}/${encodeURIComponent(slug.value)}`);
    } catch (error) {
      alert.textContent = error.message;
      alert.focus();
    }
  });

  const form = document.getElementById("document-form");
  const preview = document.getElementById("preview");
  const button = form?.querySelector("[data-preview-button]");
  async function refresh() {
    try {
      const answer = await api("POST", form.dataset.preview, { body: form.elements.body.value });
      preview.innerHTML = answer.html;
    } catch (error) {
      const alert = form.querySelector("[role=alert]");
      alert.textContent = error.message;
      alert.focus();
    }
  }
  button?.addEventListener("click", refresh);
  form?.addEventListener("api:done", refresh);
})();
