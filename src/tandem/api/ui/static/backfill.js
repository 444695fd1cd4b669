// The backfill dialog of a DAG page: dates, max active runs, reprocess behaviour, a dry-run
// preview of the runs, then create and go to the DAG's backfills (progress) page.
"use strict";

function backfillBody(form, dryRun) {
  const value = (name) => form.querySelector("[name=" + name + "]").value.trim();
  // datetime-local has no zone: the dialog says its times are UTC.
  const utc = (text, label) => {
    if (!text) { throw new Error(label + " is required"); }
    return (text.length === 16 ? text + ":00" : text) + "Z";
  };
  const conf = value("dag_run_conf");
  let parsed = {};
  if (conf) {
    parsed = JSON.parse(conf);
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) { throw new Error("conf must be a JSON object"); }
  }
  return {dag_id: form.dataset.dagId, from_date: utc(value("from_date"), "From"), to_date: utc(value("to_date"), "To"),
          max_active_runs: parseInt(value("max_active_runs"), 10), reprocess_behavior: value("reprocess_behavior"),
          run_backwards: form.querySelector("[name=run_backwards]").checked, dag_run_conf: parsed, dry_run: dryRun};
}

function wireBackfillDialog() {
  const dialog = document.getElementById("backfill-dialog");
  const opener = document.getElementById("backfill-button");
  if (!dialog || !opener) { return; }
  const form = dialog.querySelector("form");
  const error = dialog.querySelector("#backfill-error");
  const summary = dialog.querySelector("#backfill-summary");
  const list = dialog.querySelector("#backfill-preview tbody");
  const create = dialog.querySelector("#backfill-create");
  const showError = (message) => { error.textContent = message; error.classList.remove("hidden"); };

  const preview = async () => {
    error.classList.add("hidden");
    create.disabled = true;
    list.replaceChildren();
    summary.textContent = "";
    let body;
    try { body = backfillBody(form, true); } catch (e) { showError(e.message); return; }
    try {
      const data = await api("POST", "/api/v1/backfills/dry_run", body);
      data.backfills.forEach((run) => {
        const tr = document.createElement("tr");
        [run.logical_date, run.data_interval_start + " → " + run.data_interval_end,
         run.action === "clear" ? "run again (" + run.existing_run_id + ")" : "new run"].forEach((text) => {
          const td = document.createElement("td");
          td.textContent = text;
          tr.appendChild(td);
        });
        list.appendChild(tr);
      });
      const skipped = data.skipped.length ? "; " + data.skipped.length + " date(s) left alone (" +
        Array.from(new Set(data.skipped.map((s) => s.reason))).join(", ") + ")" : "";
      summary.textContent = data.total_entries + " run(s) will be created or run again" + skipped + ".";
      summary.dataset.count = String(data.total_entries);
      create.disabled = data.total_entries === 0;
    } catch (err) { showError(err.message); }
  };

  opener.addEventListener("click", () => { dialog.showModal(); });
  dialog.querySelector("#backfill-cancel").addEventListener("click", () => dialog.close());
  dialog.querySelector("#backfill-preview-button").addEventListener("click", preview);
  form.addEventListener("change", () => { create.disabled = true; });
  create.addEventListener("click", async () => {
    create.disabled = true;
    try {
      await api("POST", "/api/v1/backfills", backfillBody(form, false));
      window.location.href = form.dataset.done;
    } catch (err) { showError(err.message); create.disabled = false; }
  });
}

document.addEventListener("DOMContentLoaded", wireBackfillDialog);
