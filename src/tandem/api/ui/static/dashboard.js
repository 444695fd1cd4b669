// The cluster dashboard: polls its JSON every few seconds and redraws in place.
// Text from the server is inserted with textContent only, never as HTML.
"use strict";

(function () {
  const root = document.getElementById("dashboard");
  if (!root) { return; }
  const SVG = "http://www.w3.org/2000/svg";
  const WIDTH = 240, HEIGHT = 48, GAP = 2;
  const TITLES = {alive: "heartbeating", silent: "heartbeat late; peers declare it dead after node_timeout",
                  dead: "declared dead by a peer: fenced, its queued work adopted", stopped: "stopped cleanly"};

  function el(tag, text, attrs) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    return node;
  }

  function field(container, name, value) {
    const node = container && container.querySelector('[data-field="' + name + '"]');
    if (node) { node.textContent = value === null || value === undefined ? "" : String(value); }
    return node;
  }

  function okBadge(container, ok) {
    const node = field(container, "ok", ok ? "up" : "down");
    if (node) { node.className = "badge " + (ok ? "node-alive" : "node-dead"); }
  }

  function blank(v) { return v === null || v === undefined ? "" : v; }

  // The rows, or one row saying there are none (as the server renders it).
  function rowsOr(rows, columns, message) {
    if (rows.length) { return rows; }
    const tr = el("tr");
    tr.append(el("td", message, {"colspan": String(columns), "class": "muted"}));
    return [tr];
  }

  function nodeRow(n) {
    const tr = el("tr", null, {"data-node": n.id, "data-role": n.role, "data-state": n.state});
    const load = n.load || {};
    tr.append(el("td", n.role), el("td", n.hostname), el("td", n.pid));
    const state = el("td");
    state.append(el("span", n.state, {"class": "badge node-" + n.state, "title": TITLES[n.state] || ""}));
    tr.append(state, el("td", n.heartbeat_age_s + " s ago"));
    const config = el("td");
    config.append(el("span", n.config, {"class": "badge " + (n.config === "differs" ? "state-failed" : "state-success")}));
    tr.append(config, el("td", blank(load.running)), el("td", blank(load.queued)), el("td", blank(load.open_slots)),
              el("td", blank(load.passes_per_s)));
    const metrics = el("td");
    if (/^https?:\/\//.test(n.metrics_url || "")) { metrics.append(el("a", "metrics", {"href": n.metrics_url})); }
    tr.append(metrics);
    return tr;
  }

  function bars(outcome, states, label) {
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("class", "bars");
    svg.setAttribute("viewBox", "0 0 " + WIDTH + " " + HEIGHT);
    svg.setAttribute("width", WIDTH);
    svg.setAttribute("height", HEIGHT);
    svg.setAttribute("preserveAspectRatio", "none");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", label);
    const buckets = outcome.buckets;
    const total = (b) => states.reduce((sum, s) => sum + (b[s] || 0), 0);
    const peak = Math.max(1, ...buckets.map(total));
    const width = (WIDTH - GAP * (buckets.length - 1)) / Math.max(buckets.length, 1);
    buckets.forEach((bucket, i) => {
      const g = document.createElementNS(SVG, "g");
      const title = document.createElementNS(SVG, "title");
      const minutes = (buckets.length - i) * outcome.bucket_seconds / 60;
      title.textContent = minutes + " min ago: " + states.map((s) => s + " " + (bucket[s] || 0)).join(", ");
      g.append(title);
      let y = HEIGHT;
      states.forEach((s) => {
        const count = bucket[s] || 0;
        if (!count) { return; }
        const h = HEIGHT * count / peak;
        y -= h;
        const rect = document.createElementNS(SVG, "rect");
        rect.setAttribute("class", "bar-" + s);
        rect.setAttribute("x", (i * (width + GAP)).toFixed(1));
        rect.setAttribute("y", y.toFixed(1));
        rect.setAttribute("width", width.toFixed(1));
        rect.setAttribute("height", h.toFixed(1));
        g.append(rect);
      });
      svg.append(g);
    });
    return svg;
  }

  function outcomes(card, outcome, chartName, label) {
    Object.keys(outcome.totals).forEach((s) => field(card, s, outcome.totals[s]));
    const chart = card.querySelector('[data-chart="' + chartName + '"]');
    if (chart) { chart.replaceChildren(bars(outcome, Object.keys(outcome.totals), label)); }
  }

  function taskLink(f) {
    let href = "/dags/" + encodeURIComponent(f.dag_id) + "/runs/" + encodeURIComponent(f.run_id) + "/tasks/" +
      encodeURIComponent(f.task_id);
    if (f.map_index >= 0) { href += "?map_index=" + f.map_index; }
    return href;
  }

  function draw(d) {
    document.getElementById("dash-updated").textContent = d.generated_at.slice(11, 19);
    const db = document.getElementById("dash-db");
    okBadge(db, d.database.ok);
    field(db, "dialect", d.database.dialect);
    field(db, "latency", d.database.latency_ms);
    field(db, "pool", "pool " + Object.entries(d.database.pool).map(([k, v]) => k + " " + v).join(", "));
    const broker = document.getElementById("dash-broker");
    if (d.broker) {
      okBadge(broker, d.broker.ok);
      field(broker, "kind", d.broker.kind);
      field(broker, "latency", d.broker.latency_ms);
      field(broker, "error", d.broker.error);
    }
    const runs = document.getElementById("dash-runs");
    field(runs, "running", d.outcomes.runs_running);
    outcomes(runs, d.outcomes.dag_runs, "dag_runs", "DAG run outcomes, last hour");
    outcomes(document.getElementById("dash-tis"), d.outcomes.task_instances, "task_instances", "Task outcomes, last hour");

    const nodes = document.querySelector("#dash-nodes tbody");
    nodes.replaceChildren(...rowsOr(d.nodes.map(nodeRow), 11, "No node has registered."));

    const queues = document.querySelector("#dash-queues tbody");
    queues.replaceChildren(...rowsOr(d.queues.map((q) => {
      const tr = el("tr");
      tr.append(el("td", q.queue), el("td", q.queued), el("td", q.workers));
      return tr;
    }), 3, "Nothing queued."));

    field(document.getElementById("dash-import-errors"), "count", d.import_errors.count);
    document.getElementById("dash-import-error-list").replaceChildren(...d.import_errors.recent.map((e) => {
      const li = el("li");
      li.append(el("a", e.filename, {"href": "/import-errors"}));
      return li;
    }));

    document.querySelector("#dash-failures tbody").replaceChildren(...rowsOr(d.recent_failures.map((f) => {
      const tr = el("tr");
      const dag = el("td");
      dag.append(el("a", f.dag_id, {"href": "/dags/" + encodeURIComponent(f.dag_id)}));
      const task = el("td");
      task.append(el("a", f.task_id + (f.map_index >= 0 ? "[" + f.map_index + "]" : ""), {"href": taskLink(f)}));
      tr.append(dag, task, el("td", f.run_id), el("td", f.try_number), el("td", (f.end_date || "").slice(0, 19)));
      return tr;
    }), 5, "No failed task instance."));
  }

  async function refresh() {
    try {
      const response = await fetch(root.dataset.src, {credentials: "same-origin", headers: {"Accept": "application/json"}});
      if (!response.ok) { throw new Error(response.status + " " + response.statusText); }
      draw(await response.json());
      root.classList.remove("stale");
    } catch (err) {
      root.classList.add("stale");
    }
  }

  const seconds = Number(root.dataset.refresh) || 5;
  window.setInterval(refresh, seconds * 1000);
})();
