// The details panel of the grid and graph views: a run or a task instance, fetched on selection.
// Text from the server goes in with textContent only. Action buttons carry data-action and the
// request they make (data-url, data-method, data-body); before acting they dispatch a cancelable "tandem:action" event, so an
// options dialog can take over (call preventDefault and do the request itself). Without one,
// window.confirm asks.
"use strict";

const TandemPanel = (function () {
  const enc = encodeURIComponent;
  let current = null;  // {kind, dagId, runId, taskId, mapIndex}
  let onChange = null;
  let onClose = null;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (v === undefined || v === null || v === false) { return; }
      if (k === "class") { node.className = v; } else if (k.startsWith("data-")) { node.setAttribute(k, v); } else { node[k] = v; }
    });
    children.forEach((c) => { if (c !== null && c !== undefined) { node.append(c); } });
    return node;
  }

  function when(iso) { return iso ? iso.slice(0, 19).replace("T", " ") : ""; }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) { return ""; }
    if (seconds < 60) { return seconds.toFixed(1) + "s"; }
    const s = Math.floor(seconds) % 60, m = Math.floor(seconds / 60) % 60, h = Math.floor(seconds / 3600);
    const pad = (n) => String(n).padStart(2, "0");
    return h ? h + "h" + pad(m) + "m" + pad(s) + "s" : m + "m" + pad(s) + "s";
  }

  function badge(state) { return el("span", {class: "badge state-" + (state || "none")}, state || "none"); }

  function kv(rows) {
    const table = el("table", {class: "kv"});
    rows.forEach(([label, value]) => {
      if (value === "" || value === null || value === undefined) { return; }
      table.append(el("tr", {}, el("th", {}, label), el("td", {}, value)));
    });
    return table;
  }

  function clipped(value) {
    const pre = el("pre", {class: "value"}, value.text);
    return value.clipped ? el("div", {}, pre, el("span", {class: "muted"}, "… (" + value.length + " characters; the task page shows all)")) : pre;
  }

  function actionButton(label, kind, api, method, body, question) {
    // data-url, not data-api: app.js wires every button[data-api] itself, which would act twice.
    return el("button", {type: "button", class: "panel-action", "data-action": kind, "data-url": api,
      "data-method": method, "data-body": JSON.stringify(body), "data-confirm": question}, label);
  }

  async function act(button) {
    const detail = {action: button.dataset.action, api: button.dataset.url, method: button.dataset.method,
      body: JSON.parse(button.dataset.body), confirm: button.dataset.confirm, target: current, done: refresh};
    const clear = button.dataset.action === "clear" && current && current.kind === "task";
    if (clear) {
      const downstream = document.getElementById("panel-downstream");
      detail.body.include_downstream = Boolean(downstream && downstream.checked);
    }
    const event = new CustomEvent("tandem:action", {bubbles: true, cancelable: true, detail});
    if (!button.dispatchEvent(event)) { return; }  // a dialog took over
    if (detail.confirm && !window.confirm(detail.confirm)) { return; }
    button.disabled = true;
    try {
      await api(detail.method, detail.api, detail.body);
      flash(button.textContent + ": done", "ok");
      refresh();
    } catch (err) {
      flash(err.message);
    } finally {
      button.disabled = false;
    }
  }

  function actions(buttons, extra) {
    const panel = document.getElementById("details-panel");
    if (!panel || panel.dataset.canEdit !== "true") { return null; }
    const box = el("div", {class: "actions panel-actions"}, extra || null, ...buttons);
    buttons.forEach((b) => b.addEventListener("click", () => act(b)));
    return box;
  }

  function runBody(d) {
    const base = "/api/v1/dags/" + enc(d.dag_id) + "/dagRuns/" + enc(d.run_id);
    const states = Object.entries(d.task_states || {}).map(([s, n]) => n + " " + s).join(", ");
    return [
      kv([["Run", d.run_id], ["State", badge(d.state)], ["Type", d.run_type], ["Logical date", when(d.logical_date)],
        ["Queued", when(d.queued_at)], ["Started", when(d.start_date)], ["Ended", when(d.end_date)],
        ["Duration", duration(d.duration)], ["Triggered by", d.triggered_by], ["Bundle version", d.bundle_version],
        ["Tasks", states], ["Scheduling error", d.scheduling_error]]),
      actions([
        actionButton("Clear run", "clear", base + "/clear", "POST", {dry_run: false}, "Clear every task of this run?"),
        actionButton("Mark success", "success", base, "PATCH", {state: "success"}, "Mark this run success?"),
        actionButton("Mark failed", "failed", base, "PATCH", {state: "failed"}, "Mark this run failed?")]),
      el("h3", {}, "Conf"), clipped(d.conf),
      el("p", {}, el("a", {href: "/dags/" + enc(d.dag_id) + "/graph?run_id=" + enc(d.run_id)}, "Graph of this run")),
    ];
  }

  function taskBody(d) {
    const tiPath = "/api/v1/dags/" + enc(d.dag_id) + "/dagRuns/" + enc(d.run_id) + "/taskInstances/" + enc(d.task_id) +
      (d.map_index >= 0 ? "/" + d.map_index : "");
    const page = "/dags/" + enc(d.dag_id) + "/runs/" + enc(d.run_id) + "/tasks/" + enc(d.task_id) +
      (d.map_index >= 0 ? "?map_index=" + d.map_index : "");
    const parts = [kv([["Run", d.run_id], ["State", badge(d.state)], ["Operator", d.operator],
      ["Try", d.try_number + " of " + (d.max_tries + 1)], ["Started", when(d.start_date)], ["Ended", when(d.end_date)],
      ["Duration", duration(d.duration)], ["Host", d.hostname], ["Pool", d.pool], ["Trigger rule", d.trigger_rule],
      ["Failure", d.failure_reason]])];
    const downstream = el("label", {}, el("input", {type: "checkbox", id: "panel-downstream", checked: true}), " with downstream");
    parts.push(actions([
      actionButton("Clear", "clear", "/api/v1/dags/" + enc(d.dag_id) + "/clearTaskInstances", "POST",
        {dry_run: false, only_failed: false, task_ids: [d.task_id], dag_run_id: d.run_id}, "Clear this task instance?"),
      actionButton("Mark success", "success", tiPath, "PATCH", {new_state: "success"}, "Mark this task instance success?"),
      actionButton("Mark failed", "failed", tiPath, "PATCH", {new_state: "failed"}, "Mark this task instance failed?")],
    downstream));
    if (d.mapped && d.mapped.count) {
      const counts = Object.entries(d.mapped.states).map(([s, n]) => n + " " + s).join(", ");
      const cells = el("div", {class: "mapped-cells"});
      d.mapped.instances.forEach((m) => {
        const a = el("a", {class: "cell state-" + m.state, href: "#", title: "[" + m.map_index + "] " + m.state});
        a.addEventListener("click", (e) => { e.preventDefault(); openTask(d.dag_id, d.run_id, d.task_id, m.map_index); });
        cells.append(a);
      });
      parts.push(el("h3", {}, "Mapped instances ", el("span", {class: "muted", id: "panel-mapped-count"}, d.mapped.count + " (" + counts + ")")), cells);
    }
    const tries = el("table", {class: "list", id: "panel-tries"},
      el("thead", {}, el("tr", {}, el("th", {}, "#"), el("th", {}, "State"), el("th", {}, "Started"), el("th", {}, "Duration"), el("th", {}, "Host"))));
    const tbody = el("tbody");
    d.tries.forEach((t) => tbody.append(el("tr", {}, el("td", {}, String(t.try_number)), el("td", {}, badge(t.state)),
      el("td", {}, when(t.start_date)), el("td", {}, duration(t.duration)), el("td", {}, t.hostname))));
    if (!d.tries.length) { tbody.append(el("tr", {}, el("td", {colSpan: 5, class: "muted"}, "No try has started."))); }
    tries.append(tbody);
    parts.push(el("h3", {}, "Tries"), tries);
    parts.push(el("h3", {}, "Log ", el("a", {href: page, class: "muted"}, "full log and task page")));
    const log = el("pre", {class: "log panel-log", id: "panel-log"}, d.try_number ? "loading…" : "No try has started.");
    parts.push(log);
    if (d.try_number) { tailLog(log, tiPath, d); }
    if (d.xcoms.length) {
      parts.push(el("h3", {}, "XCom"));
      d.xcoms.forEach((x) => parts.push(el("div", {class: "xcom"}, el("strong", {}, x.key), clipped(x.value))));
    }
    const rendered = Object.entries(d.rendered || {});
    if (rendered.length) {
      parts.push(el("h3", {}, "Rendered fields"));
      rendered.forEach(([k, v]) => parts.push(el("div", {class: "rendered"}, el("strong", {}, k), clipped(v))));
    }
    return parts;
  }

  async function tailLog(pre, tiPath, d) {
    const url = "/api/v1/dags/" + enc(d.dag_id) + "/dagRuns/" + enc(d.run_id) + "/taskInstances/" + enc(d.task_id) +
      "/logs/" + d.try_number + "?map_index=" + d.map_index;
    try {
      const data = await api("GET", url);
      const lines = (data.content || "").split("\n");
      pre.textContent = (lines.length > 40 ? "…\n" : "") + lines.slice(-40).join("\n");
      pre.scrollTop = pre.scrollHeight;  // the tail is what matters
    } catch (err) {
      pre.textContent = "*** " + err.message;
    }
  }

  async function show(target) {
    current = target;
    const panel = document.getElementById("details-panel");
    const body = document.getElementById("panel-body");
    const title = document.getElementById("panel-title");
    if (!panel) { return; }
    panel.classList.remove("hidden");
    panel.dataset.loaded = "false";
    const base = "/dags/" + enc(target.dagId) + "/runs/" + enc(target.runId);
    const url = target.kind === "run" ? base + "/details"
      : base + "/tasks/" + enc(target.taskId) + "/details?map_index=" + target.mapIndex;
    title.textContent = target.kind === "run" ? target.runId
      : target.taskId + (target.mapIndex >= 0 ? " [" + target.mapIndex + "]" : "");
    try {
      const data = await api("GET", url);
      if (current !== target) { return; }  // another selection came first
      body.replaceChildren(...(target.kind === "run" ? runBody(data) : taskBody(data)).filter(Boolean));
      panel.dataset.kind = target.kind;
      panel.dataset.state = data.state;
    } catch (err) {
      body.replaceChildren(el("p", {class: "error"}, err.message));
    }
    panel.dataset.loaded = "true";
  }

  function refresh() {
    if (onChange) { onChange(); }
    if (current) { show(current); }
  }

  function openRun(dagId, runId) { return show({kind: "run", dagId, runId}); }
  function openTask(dagId, runId, taskId, mapIndex) {
    return show({kind: "task", dagId, runId, taskId, mapIndex: mapIndex === undefined ? -1 : mapIndex});
  }
  function close() {
    const panel = document.getElementById("details-panel");
    if (panel) { panel.classList.add("hidden"); }
    current = null;
    if (onClose) { onClose(); }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const button = document.getElementById("panel-close");
    if (button) { button.addEventListener("click", close); }
    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && current) { close(); }
    });
  });

  return {openRun, openTask, close, isOpen: () => current !== null, current: () => current,
    set onChange(f) { onChange = f; }, set onClose(f) { onClose = f; }, duration, when};
}());
