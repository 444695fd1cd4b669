// Tandem UI: every change is a fetch to the REST API carrying the session's CSRF token.
// Text from the server is inserted with textContent only, never as HTML.
"use strict";

const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

async function api(method, url, body) {
  const init = {method, headers: {"X-CSRF-Token": csrf(), "Accept": "application/json"}, credentials: "same-origin"};
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(url, init);
  let data = null;
  const text = await response.text();
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = text; }
  if (!response.ok) {
    const detail = data && data.detail ? data.detail : (response.status + " " + response.statusText);
    const err = new Error(typeof detail === "string" ? detail : JSON.stringify(detail));
    err.status = response.status;
    throw err;
  }
  return data;
}

function flash(message, kind) {
  const box = document.getElementById("flash");
  if (!box) { return; }
  box.textContent = message;
  box.className = "flash " + (kind || "error");
  window.clearTimeout(flash.timer);
  flash.timer = window.setTimeout(() => box.classList.add("hidden"), 8000);
}

// Buttons with data-api: a one-shot API call, then reload to show the new state.
function wireActionButtons() {
  document.querySelectorAll("button[data-api]").forEach((button) => {
    button.addEventListener("click", async () => {
      if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) { return; }
      const body = button.dataset.body ? JSON.parse(button.dataset.body) : undefined;
      button.disabled = true;
      try {
        await api(button.dataset.method || "POST", button.dataset.api, body);
        window.location.reload();
      } catch (err) {
        flash(err.message);
        button.disabled = false;
      }
    });
  });
}

function wirePauseToggles() {
  document.querySelectorAll("input.pause-toggle").forEach((box) => {
    box.addEventListener("change", async () => {
      const dagId = box.dataset.dagId;
      try {
        await api("PATCH", "/api/v1/dags/" + encodeURIComponent(dagId), {is_paused: !box.checked});
        flash(dagId + (box.checked ? " is active" : " is paused"), "ok");
      } catch (err) {
        box.checked = !box.checked;
        flash(err.message);
      }
    });
  });
}

function paramValue(input) {
  const kind = input.dataset.kind;
  if (kind === "checkbox") { return input.checked; }
  if (kind === "integer") { return input.value === "" ? null : parseInt(input.value, 10); }
  if (kind === "number") { return input.value === "" ? null : Number(input.value); }
  if (kind === "json") { return input.value.trim() === "" ? null : JSON.parse(input.value); }
  return input.value;
}

function wireTriggerForm() {
  const form = document.getElementById("trigger-form");
  if (!form) { return; }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = document.getElementById("trigger-error");
    error.classList.add("hidden");
    const body = {conf: {}};
    try {
      form.querySelectorAll("[data-param]").forEach((input) => {
        try { body.conf[input.dataset.param] = paramValue(input); } catch (e) {
          throw new Error("param " + input.dataset.param + ": not valid JSON");
        }
      });
      const extra = form.querySelector("#conf-json").value.trim();
      if (extra) {
        const parsed = JSON.parse(extra);
        if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) { throw new Error("conf must be a JSON object"); }
        Object.assign(body.conf, parsed);
      }
    } catch (e) {
      error.textContent = e.message;
      error.classList.remove("hidden");
      return;
    }
    const runId = form.querySelector("#run-id").value.trim();
    const logicalDate = form.querySelector("#logical-date").value.trim();
    if (runId) { body.dag_run_id = runId; }
    if (logicalDate) { body.logical_date = logicalDate; }
    try {
      await api("POST", form.dataset.api, body);
      window.location.href = form.dataset.done;
    } catch (err) {
      error.textContent = err.message;
      error.classList.remove("hidden");
    }
  });
}

// Forms with class api-form: fields become a JSON body; empty optional fields are left out.
function wireApiForms() {
  document.querySelectorAll("form.api-form").forEach((form) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = {};
      form.querySelectorAll("input[name], textarea[name], select[name]").forEach((input) => {
        if (input.value === "" && !input.required) { return; }
        body[input.name] = input.dataset.kind === "integer" ? parseInt(input.value, 10) : input.value;
      });
      try {
        const result = await api(form.dataset.method || "POST", form.dataset.api, body);
        // A secret shown once (a new API token): display it instead of reloading it away.
        if (form.dataset.showField) {
          const out = document.getElementById(form.dataset.showIn);
          out.textContent = result[form.dataset.showField];
          out.hidden = false;
          return;
        }
        window.location.reload();
      } catch (err) {
        if (err.status === 409 && form.dataset.updateMethod) {
          const key = body[form.dataset.updateKey];
          try {
            await api(form.dataset.updateMethod, form.dataset.api + "/" + encodeURIComponent(key), body);
            window.location.reload();
            return;
          } catch (err2) { flash(err2.message); return; }
        }
        flash(err.message);
      }
    });
  });
}

function wireGridExpanders() {
  document.querySelectorAll("button[data-toggle-rows]").forEach((button) => {
    button.addEventListener("click", () => {
      const open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", open ? "true" : "false");
      button.textContent = open ? "▾" : "▸";
      document.querySelectorAll("tr.mapped-child").forEach((row) => {
        if (row.dataset.parent === button.dataset.toggleRows) { row.classList.toggle("hidden", !open); }
      });
      try { sessionStorage.setItem("expand:" + button.dataset.toggleRows, open ? "1" : ""); } catch (e) { /* private mode */ }
    });
    try { if (sessionStorage.getItem("expand:" + button.dataset.toggleRows)) { button.click(); } } catch (e) { /* ignore */ }
  });
}

function wireAutoSubmit() {
  document.querySelectorAll("select.autosubmit").forEach((select) => {
    select.addEventListener("change", () => select.form.submit());
  });
}

// Pages showing something in progress reload themselves, unless the user is busy with a form.
function wireAutoRefresh() {
  const seconds = parseFloat(document.body.dataset.autoRefresh || "0");
  if (!seconds) { return; }
  window.setTimeout(function tick() {
    const active = document.activeElement;
    const typing = active && (active.tagName === "TEXTAREA" ||
      (active.tagName === "INPUT" && !["checkbox", "radio", "button", "submit"].includes(active.type)));
    // An open dialog (clear, mark, backfill) is the user busy too.
    if (typing || document.hidden || document.querySelector("dialog[open]")) { window.setTimeout(tick, seconds * 1000); return; }
    window.location.reload();
  }, seconds * 1000);
}

document.addEventListener("DOMContentLoaded", () => {
  wireActionButtons();
  wirePauseToggles();
  wireTriggerForm();
  wireApiForms();
  wireGridExpanders();
  wireAutoSubmit();
  wireAutoRefresh();
});
