// The assistant page's "try it" panel (console/pages/assistant-page.tsx): sends the prompt form's fields,
// saved or not, with the message to POST …/settings/try, which answers without saving anything, and shows
// the reply as text (never as markup) in a live region.
(() => {
  const form = document.getElementById("try-form");
  const draftForm = form && document.getElementById(form.dataset.try);
  if (!form || !draftForm) return;
  const [, path] = draftForm.dataset.api.split(" ");
  const result = document.getElementById("try-result");
  const show = (id, text) => {
    document.getElementById(id).textContent = text;
  };

  /** The draft as a settings patch: a cleared prompt is the deployment's again (null). */
  function draftOf() {
    const draft = window.Switchboard.bodyOf(draftForm);
    if (!("promptVariables" in draft)) draft.promptVariables = null;
    return draft;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const alert = form.querySelector("[role=alert]");
    alert.textContent = "";
    const button = form.querySelector("button");
    button.disabled = true;
    form.setAttribute("aria-busy", "true");
    try {
      const message = form.elements.message.value;
      const answer = await window.Switchboard.api("POST", `${path}/try`, { settings: draftOf(), message });
      show("try-reply", answer.reply);
      const sure = answer.confident ? "a confident answer" : "not a confident answer";
      const sources = answer.sources.length ? `; documents: ${answer.sources.join(", ")}` : "";
      show("try-meta", `${answer.model}, ${answer.outcome}, ${sure}${sources}`);
      show("try-prompt", answer.systemPrompt);
      result.hidden = false;
    } catch (error) {
      alert.textContent = error.message;
      alert.focus();
    } finally {
      button.disabled = false;
      form.removeAttribute("aria-busy");
    }
  });
})();
