// Admin pages: edit forms and JSON file imports, both calls to the REST API with the session's CSRF token.
// Server text is shown with textContent only.
"use strict";

(function () {
  const token = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  async function send(method, url, body, type) {
    const response = await fetch(url, {
      method, credentials: "same-origin", body,
      headers: {"X-CSRF-Token": token(), "Accept": "application/json", "Content-Type": type || "application/json"},
    });
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = text; }
    if (!response.ok) {
      const detail = data && data.detail ? data.detail : response.status + " " + response.statusText;
      throw new Error(typeof detail === "string" ? detail : JSON.stringify(detail));
    }
    return data;
  }

  function show(box, message, ok) {
    box.textContent = message;
    box.classList.remove("hidden");
    box.classList.toggle("error", !ok);
    box.classList.toggle("ok", Boolean(ok));
  }

  // Edit forms: every field is sent, except a blank one marked data-blank-keeps (a secret left as stored).
  function wireEditForms() {
    document.querySelectorAll("form.edit-form").forEach((form) => {
      const box = form.querySelector(".form-error") || document.getElementById("flash");
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const body = {};
        form.querySelectorAll("input[name], textarea[name], select[name]").forEach((input) => {
          if (input.value === "" && input.dataset.blankKeeps) { return; }
          const kind = input.dataset.kind;
          if (input.type === "checkbox") { body[input.name] = input.checked; }
          else if (kind === "integer") { body[input.name] = input.value === "" ? null : parseInt(input.value, 10); }
          else if (kind === "nullable") { body[input.name] = input.value === "" ? null : input.value; }
          else { body[input.name] = input.value; }
        });
        try {
          await send(form.dataset.method || "PATCH", form.dataset.api, JSON.stringify(body));
          window.location.href = form.dataset.done;
        } catch (err) { if (box) { show(box, err.message, false); } }
      });
    });
  }

  // Import forms: the chosen file goes to the API as it is; the server checks it and names what is wrong.
  function wireImportForms() {
    document.querySelectorAll("form.import-form").forEach((form) => {
      const box = document.getElementById(form.dataset.result);
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const file = form.querySelector("input[type=file]").files[0];
        if (!file) { show(box, "choose a JSON file first", false); return; }
        const onExisting = form.querySelector("select[name=on_existing]").value;
        try {
          const text = await file.text();
          const result = await send("POST", form.dataset.api + "?on_existing=" + encodeURIComponent(onExisting), text);
          show(box, `Imported ${file.name}: ${result.created} created, ${result.updated} updated, ${result.skipped} skipped. Reloading…`, true);
          window.setTimeout(() => window.location.reload(), 1200);
        } catch (err) { show(box, file.name + ": " + err.message, false); }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", () => { wireEditForms(); wireImportForms(); });
}());
