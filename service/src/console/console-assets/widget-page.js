// The widget page (console/pages/widget-page.tsx): the preview frame follows the form as it is edited
// (its look as the frame's query, nothing saved), and Copy puts the embed snippet on the clipboard, or
// selects it for Ctrl+C where the clipboard API is not allowed.
(() => {
  const form = document.getElementById("widget-form");
  const frame = document.getElementById("widget-preview");
  if (form && frame) {
    let timer;
    const update = () => {
      const f = form.elements;
      const url = new URL(frame.src, window.location.href);
      url.searchParams.set("title", f["widget.title"].value);
      url.searchParams.set("greeting", f["widget.greeting"].value);
      url.searchParams.set("color", f["widget.primaryColor"].value);
      url.searchParams.set("position", f["widget.position"].value);
      if (url.href !== frame.src) frame.src = url.href;
    };
    form.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(update, 300);
    });
    form.addEventListener("change", update);
  }

  document.querySelectorAll("[data-copy]").forEach((button) => {
    button.addEventListener("click", async () => {
      const field = document.getElementById(button.dataset.copy);
      const status = document.getElementById("copy-status");
      try {
        await navigator.clipboard.writeText(field.value);
        status.textContent = "Copied.";
      } catch {
        field.focus();
        field.select();
        status.textContent = "Selected: press Ctrl+C (⌘C) to copy.";
      }
    });
  });
})();
