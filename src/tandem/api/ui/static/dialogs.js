// Clear / mark dialogs: options, a preview computed by the server (dry_run), then confirm.
// Any element with data-ti-dialog ("clear", "success", "failed") or data-run-dialog ("clear",
// "success", "failed") opens one, with data-dag-id, data-run-id, data-task-id and data-map-index;
// clicks are delegated from the document, so buttons added later (a details panel) work too.
"use strict";

const TI_OPTIONS = {
  clear: [["upstream", "Upstream", false], ["downstream", "Downstream", true], ["past", "Past", false],
          ["future", "Future", false], ["only_failed", "Only failed", false], ["recursive", "Recursive", false]],
  mark: [["upstream", "Upstream", false], ["downstream", "Downstream", false], ["past", "Past", false],
         ["future", "Future", false]],
};

function el(tag, attrs, text) {
  const node = document.createElement(tag);
  Object.entries(attrs || {}).forEach(([k, v]) => { if (v !== undefined && v !== null) { node.setAttribute(k, v); } });
  if (text !== undefined) { node.textContent = text; }
  return node;
}

function enc(value) { return encodeURIComponent(value); }

// What one dialog does: its title, options, and the request for a preview or for the real change.
function actionFor(source) {
  const d = source.dataset;
  const dagUrl = "/api/v1/dags/" + enc(d.dagId);
  const mapIndex = d.mapIndex !== undefined && d.mapIndex !== "" ? parseInt(d.mapIndex, 10) : -1;
  if (d.tiDialog) {
    const kind = d.tiDialog;
    const label = d.taskId + (mapIndex >= 0 ? " [" + mapIndex + "]" : "");
    if (kind === "clear") {
      return {title: "Clear " + label, verb: "Clear", options: TI_OPTIONS.clear, request: (o, dryRun) => ({
        method: "POST", url: dagUrl + "/clearTaskInstances",
        body: {dry_run: dryRun, task_ids: [d.taskId], dag_run_id: d.runId, include_upstream: o.upstream,
               include_downstream: o.downstream, include_past: o.past, include_future: o.future,
               only_failed: o.only_failed, recursive: o.recursive}})};
    }
    return {title: "Mark " + label + " as " + kind, verb: "Mark " + kind, options: TI_OPTIONS.mark,
            request: (o, dryRun) => ({method: "POST", url: dagUrl + "/updateTaskInstancesState",
              body: {dry_run: dryRun, task_id: d.taskId, dag_run_id: d.runId, map_index: mapIndex,
                     new_state: kind, include_upstream: o.upstream, include_downstream: o.downstream,
                     include_past: o.past, include_future: o.future}})};
  }
  const runUrl = dagUrl + "/dagRuns/" + enc(d.runId);
  if (d.runDialog === "clear") {
    return {title: "Clear run " + d.runId, verb: "Clear", options: [["only_failed", "Only failed", false]],
            request: (o, dryRun) => ({method: "POST", url: runUrl + "/clear",
                                      body: {dry_run: dryRun, only_failed: o.only_failed}})};
  }
  return {title: "Mark run " + d.runId + " as " + d.runDialog, verb: "Mark " + d.runDialog, options: [],
          request: (o, dryRun) => ({method: "PATCH", url: runUrl, body: {state: d.runDialog, dry_run: dryRun}})};
}

function previewRows(data) {
  const items = (data && data.task_instances) || [];
  return items.map((t) => ({dag: t.dag_id, run: t.dag_run_id, task: t.task_id, map: t.map_index,
                            state: t.state === undefined || t.state === null ? "none" : t.state}));
}

function openActionDialog(source) {
  const action = actionFor(source);
  const dialog = el("dialog", {class: "action-dialog", id: "action-dialog"});
  const form = el("form", {method: "dialog"});
  form.appendChild(el("h2", {}, action.title));
  const options = el("div", {class: "dialog-options"});
  const state = {};
  action.options.forEach(([name, label, checked]) => {
    const box = el("input", {type: "checkbox", id: "opt-" + name, "data-option": name});
    box.checked = checked;
    state[name] = checked;
    const wrap = el("label", {for: "opt-" + name});
    wrap.appendChild(box);
    wrap.appendChild(document.createTextNode(" " + label));
    options.appendChild(wrap);
  });
  form.appendChild(options);
  const summary = el("p", {class: "preview-summary", id: "preview-summary"}, "Loading the affected task instances…");
  form.appendChild(summary);
  const table = el("table", {class: "list preview", id: "preview-table"});
  const head = el("tr");
  ["DAG", "Run", "Task", "Map index", "State now"].forEach((h) => head.appendChild(el("th", {}, h)));
  table.appendChild(el("thead")).appendChild(head);
  const body = table.appendChild(el("tbody"));
  form.appendChild(el("div", {class: "preview-wrap"})).appendChild(table);
  const error = el("p", {class: "error hidden", id: "dialog-error"});
  form.appendChild(error);
  const buttons = el("div", {class: "dialog-buttons"});
  const cancel = el("button", {type: "button", id: "dialog-cancel"}, "Cancel");
  const confirm = el("button", {type: "button", class: "primary", id: "dialog-confirm", disabled: "disabled"},
                     action.verb);
  buttons.appendChild(cancel);
  buttons.appendChild(confirm);
  form.appendChild(buttons);
  dialog.appendChild(form);
  document.body.appendChild(dialog);
  let generation = 0;

  const preview = async () => {
    const mine = ++generation;
    confirm.disabled = true;
    error.classList.add("hidden");
    const req = action.request(state, true);
    try {
      const rows = previewRows(await api(req.method, req.url, req.body));
      if (mine !== generation) { return; }
      body.replaceChildren();
      rows.forEach((row) => {
        const tr = el("tr");
        tr.appendChild(el("td", {}, row.dag));
        tr.appendChild(el("td", {}, row.run));
        tr.appendChild(el("td", {}, row.task));
        tr.appendChild(el("td", {}, row.map >= 0 ? String(row.map) : ""));
        tr.appendChild(el("td")).appendChild(el("span", {class: "badge state-" + row.state}, row.state));
        body.appendChild(tr);
      });
      summary.textContent = rows.length === 0 ? "No task instance would change."
        : rows.length + " task instance" + (rows.length === 1 ? "" : "s") + " will be affected:";
      summary.dataset.count = String(rows.length);
      confirm.disabled = rows.length === 0;
    } catch (err) {
      if (mine !== generation) { return; }
      error.textContent = err.message;
      error.classList.remove("hidden");
    }
  };

  options.addEventListener("change", (event) => {
    const name = event.target.dataset.option;
    if (name) { state[name] = event.target.checked; preview(); }
  });
  cancel.addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => dialog.remove());
  confirm.addEventListener("click", async () => {
    confirm.disabled = true;
    const req = action.request(state, false);
    try {
      await api(req.method, req.url, req.body);
      dialog.close();
      window.location.reload();
    } catch (err) {
      error.textContent = err.message;
      error.classList.remove("hidden");
      confirm.disabled = false;
    }
  });
  dialog.showModal();
  preview();
}

document.addEventListener("click", (event) => {
  const source = event.target.closest("[data-ti-dialog], [data-run-dialog]");
  if (!source) { return; }
  event.preventDefault();
  const open = document.getElementById("action-dialog");
  if (open) { open.close(); }
  openActionDialog(source);
});

// The grid's details panel asks before it acts (a cancelable "tandem:action" event carrying its
// target): answer with the same dialog, so the panel offers the same options and preview.
document.addEventListener("tandem:action", (event) => {
  const detail = event.detail || {};
  const target = detail.target;
  if (!target || !["clear", "success", "failed"].includes(detail.action)) { return; }
  const attrs = {"data-dag-id": target.dagId, "data-run-id": target.runId};
  if (target.kind === "task") {
    attrs["data-ti-dialog"] = detail.action;
    attrs["data-task-id"] = target.taskId;
    attrs["data-map-index"] = String(target.mapIndex === undefined ? -1 : target.mapIndex);
  } else {
    attrs["data-run-dialog"] = detail.action;
  }
  event.preventDefault();
  const open = document.getElementById("action-dialog");
  if (open) { open.close(); }
  openActionDialog(el("span", attrs));
});
