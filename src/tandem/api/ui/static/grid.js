// The grid view, drawn from the compact payload of api/ui/grid.py: runs as columns (bar height
// is the run's duration, a date axis below), task groups and tasks as rows, one character per
// cell. Clicking a cell or bar (or Enter on it) opens the details panel; arrow keys move.
// While a run or task is moving, the data is polled and redrawn in place: selection, open
// groups and the panel survive.
"use strict";

(function () {
  const wrap = document.getElementById("grid-wrap");
  const source = document.getElementById("grid-data");
  if (!wrap || !source) { return; }
  const dagId = wrap.dataset.dagId;
  const enc = encodeURIComponent;
  const BAR_MAX = 64;  // px of the tallest run bar
  const storeKey = "tandem.grid.collapsed." + dagId;
  let data = JSON.parse(source.textContent);
  let collapsed = new Set(load(storeKey, []));
  const mapped = new Map();  // task id -> rows per map index, once opened
  let selected = null;  // {key, col}: key is "run", "g:<group>", "t:<task>" or "m:<task>:<index>"
  let pollTimer = null;

  function load(key, fallback) {
    try { return JSON.parse(localStorage.getItem(key)) || fallback; } catch (e) { return fallback; }
  }
  function save() {
    try { localStorage.setItem(storeKey, JSON.stringify([...collapsed])); } catch (e) { /* not kept */ }
  }
  function stateOf(code) { return code === "." ? "absent" : (data.codes[code] || "none"); }

  // A group's cell: the most telling state among its tasks, by the server's summary order.
  function summarize(codes) {
    for (const c of data.order) { if (codes.has(c)) { return c; } }
    return codes.size ? codes.values().next().value : ".";
  }

  function groupCells() {
    const byGroup = new Map();
    data.rows.forEach((row) => {
      if (row.kind !== "task") { return; }
      let parent = row.parent;
      while (parent) {
        if (!byGroup.has(parent)) { byGroup.set(parent, data.runs.map(() => new Set())); }
        const sets = byGroup.get(parent);
        for (let i = 0; i < row.cells.length; i++) { if (row.cells[i] !== ".") { sets[i].add(row.cells[i]); } }
        const up = data.rows.find((r) => r.kind === "group" && r.id === parent);
        parent = up ? up.parent : "";
      }
    });
    const out = new Map();
    byGroup.forEach((sets, group) => out.set(group, sets.map(summarize).join("")));
    return out;
  }

  function hiddenBy(row) {
    // Hidden when any enclosing group is collapsed.
    let parent = row.parent;
    while (parent) {
      if (collapsed.has(parent)) { return true; }
      const up = data.rows.find((r) => r.kind === "group" && r.id === parent);
      parent = up ? up.parent : "";
    }
    return false;
  }

  // Axis labels: the time when every run is on one day, the date (and time, within a week) otherwise.
  function label(iso, oneDay, span) {
    const d = iso ? iso.slice(0, 16).replace("T", " ") : "";
    if (oneDay) { return d.slice(11); }
    return span < 7 * 86400e3 ? d.slice(5) : d.slice(5, 10);
  }

  function header() {
    const runs = data.runs;
    const longest = Math.max(0, ...runs.map((r) => r.duration || 0));
    const bars = document.createElement("tr");
    bars.className = "bars-row";
    const axis = document.createElement("th");
    axis.className = "task-col duration-axis";
    const top = document.createElement("span");
    top.className = "axis-max";
    top.id = "axis-max";
    top.textContent = longest ? TandemPanel.duration(longest) : "";
    const mid = document.createElement("span");
    mid.className = "axis-mid";
    mid.textContent = longest ? TandemPanel.duration(longest / 2) : "";
    const zero = document.createElement("span");
    zero.className = "axis-zero";
    zero.textContent = "duration";
    axis.append(top, mid, zero);
    bars.append(axis);
    runs.forEach((run, col) => {
      const th = document.createElement("th");
      th.className = "run-col";
      const bar = document.createElement("a");
      bar.className = "run-bar state-" + run.state;
      bar.dataset.runId = run.run_id;
      bar.dataset.state = run.state;
      bar.dataset.col = col;
      bar.dataset.key = "run";
      bar.tabIndex = -1;
      bar.href = "/dags/" + enc(dagId) + "/graph?run_id=" + enc(run.run_id);
      bar.title = run.run_id + " · " + run.state + " · " + TandemPanel.when(run.logical_date) +
        (run.duration !== null ? " · " + TandemPanel.duration(run.duration) : "") +
        (run.bundle_version ? " · bundle " + run.bundle_name + "@" + run.bundle_version.slice(0, 12) : "");
      // CSSOM, not a style attribute: the CSP allows the former only.
      bar.style.height = (longest && run.duration ? Math.max(4, Math.round(BAR_MAX * run.duration / longest)) : 4) + "px";
      th.append(bar);
      bars.append(th);
    });
    const ticks = document.createElement("tr");
    ticks.className = "axis-row";
    const first = runs.length ? Date.parse(runs[0].logical_date) : 0;
    const span = runs.length ? Date.parse(runs[runs.length - 1].logical_date) - first : 0;
    const oneDay = runs.length > 0 && runs[0].logical_date.slice(0, 10) === runs[runs.length - 1].logical_date.slice(0, 10);
    // A label every few columns: as many as fit side by side (about 6.5 px a character, 20 px a column).
    const chars = oneDay ? 5 : (span < 7 * 86400e3 ? 11 : 5);
    const step = Math.max(1, Math.ceil(runs.length / 10), Math.ceil((chars * 6.5 + 6) / 20));
    const blank = document.createElement("th");
    blank.className = "task-col axis-year";
    blank.textContent = runs.length ? (oneDay ? runs[0].logical_date.slice(0, 10) : runs[0].logical_date.slice(0, 4)) : "";
    ticks.append(blank);
    runs.forEach((run, col) => {
      const th = document.createElement("th");
      th.className = "tick-cell";
      if (col % step === 0) {
        const tick = document.createElement("span");
        tick.className = "tick";
        tick.textContent = label(run.logical_date, oneDay, span);
        tick.title = run.logical_date;
        th.append(tick);
      }
      ticks.append(th);
    });
    const thead = document.createElement("thead");
    thead.append(bars, ticks);
    return thead;
  }

  function rowHead(row, kind) {
    const th = document.createElement("th");
    th.className = "task-col";
    th.title = row.id;
    if (kind === "group") {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "expander";
      button.dataset.toggleGroup = row.id;
      button.setAttribute("aria-expanded", collapsed.has(row.id) ? "false" : "true");
      button.textContent = collapsed.has(row.id) ? "▸" : "▾";
      th.append(button);
      const name = document.createElement("strong");
      name.textContent = row.label;
      th.append(name);
    } else if (kind === "task") {
      if (row.mapped) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "expander";
        button.dataset.toggleRows = row.id;
        button.setAttribute("aria-expanded", mapped.has(row.id) ? "true" : "false");
        button.textContent = mapped.has(row.id) ? "▾" : "▸";
        th.append(button);
      }
      th.append(row.label);
      if (row.mapped) {
        const last = (row.counts || []).filter(Boolean).pop();
        const count = document.createElement("span");
        count.className = "map-count";
        count.textContent = "[" + (last ? Object.values(last).reduce((a, b) => a + b, 0) : "") + "]";
        th.append(" ", count);
      }
      if (row.op) {
        const op = document.createElement("small");
        op.className = "op";
        op.textContent = row.op;
        th.append(" ", op);
      }
    } else {
      th.append("[" + row.map_index + "]");
    }
    return th;
  }

  function cellsInto(tr, codes, key, href) {
    for (let col = 0; col < codes.length; col++) {
      const td = document.createElement("td");
      const state = stateOf(codes[col]);
      const cell = document.createElement(state === "absent" || !href ? "span" : "a");
      cell.className = "cell state-" + state + (state === "absent" ? " absent" : "");
      cell.dataset.state = state;
      cell.dataset.col = col;
      cell.dataset.key = key;
      cell.tabIndex = -1;
      if (cell.tagName === "A") { cell.href = href(data.runs[col].run_id); }
      td.append(cell);
      tr.append(td);
    }
  }

  function tiHref(taskId, mapIndex) {
    return (runId) => "/dags/" + enc(dagId) + "/runs/" + enc(runId) + "/tasks/" + enc(taskId) +
      (mapIndex >= 0 ? "?map_index=" + mapIndex : "");
  }

  function draw() {
    const table = document.createElement("table");
    table.className = "grid";
    table.id = "grid";
    table.setAttribute("role", "grid");
    table.setAttribute("aria-label", "Runs and task instances of " + dagId);
    table.append(header());
    const tbody = document.createElement("tbody");
    const groups = groupCells();
    data.rows.forEach((row) => {
      const tr = document.createElement("tr");
      tr.className = "task-row depth-" + row.depth + (row.kind === "group" ? " group-row" : "");
      if (hiddenBy(row)) { tr.classList.add("hidden"); }
      if (row.kind === "group") {
        tr.dataset.groupId = row.id;
        tr.append(rowHead(row, "group"));
        cellsInto(tr, groups.get(row.id) || ".".repeat(data.runs.length), "g:" + row.id, null);
        tbody.append(tr);
        return;
      }
      tr.dataset.taskId = row.id;
      tr.append(rowHead(row, "task"));
      cellsInto(tr, row.cells, "t:" + row.id, tiHref(row.id, -1));
      if (row.mapped && row.counts) {
        tr.querySelectorAll(".cell").forEach((cell, col) => {
          const counts = row.counts[col];
          if (counts) { cell.dataset.counts = Object.entries(counts).map(([c, n]) => n + " " + stateOf(c)).join(", "); }
        });
      }
      tbody.append(tr);
      (mapped.get(row.id) || []).forEach((child) => {
        const ctr = document.createElement("tr");
        ctr.className = "task-row mapped-child depth-" + (row.depth + 1);
        if (hiddenBy(row)) { ctr.classList.add("hidden"); }
        ctr.dataset.parent = row.id;
        ctr.dataset.mapIndex = child.map_index;
        ctr.append(rowHead(child, "child"));
        cellsInto(ctr, child.cells, "m:" + row.id + ":" + child.map_index, tiHref(row.id, child.map_index));
        tbody.append(ctr);
      });
    });
    table.append(tbody);
    const old = document.getElementById("grid");
    if (old) { old.replaceWith(table); } else { wrap.append(table); }
    restoreSelection(false);
  }

  function cellAt(key, col) {
    if (key === "run") { return wrap.querySelector('.run-bar[data-col="' + col + '"]'); }
    return [...wrap.querySelectorAll('.cell[data-col="' + col + '"]')].find((c) => c.dataset.key === key) || null;
  }

  function visibleKeys() {
    const keys = ["run"];
    wrap.querySelectorAll("tbody tr").forEach((tr) => {
      if (tr.classList.contains("hidden")) { return; }
      const cell = tr.querySelector(".cell");
      if (cell) { keys.push(cell.dataset.key); }
    });
    return keys;
  }

  function select(key, col, focus) {
    wrap.querySelectorAll(".selected").forEach((c) => {
      c.classList.remove("selected");
      c.removeAttribute("aria-selected");
      c.tabIndex = -1;
    });
    selected = {key, col};
    const cell = cellAt(key, col);
    if (!cell) { return null; }
    cell.classList.add("selected");
    cell.tabIndex = 0;
    cell.setAttribute("aria-selected", "true");
    if (focus) { cell.focus({preventScroll: false}); }
    return cell;
  }

  function restoreSelection(focus) {
    if (selected && cellAt(selected.key, selected.col)) { select(selected.key, selected.col, focus); return; }
    const first = wrap.querySelector(".run-bar, .cell");
    if (first) { first.tabIndex = 0; }
  }

  function open(key, col) {
    const run = data.runs[col];
    if (!run) { return; }
    if (key === "run" || key.startsWith("g:")) { TandemPanel.openRun(dagId, run.run_id); return; }
    const [kind, ...rest] = key.split(":");
    if (kind === "t") { TandemPanel.openTask(dagId, run.run_id, rest.join(":"), -1); return; }
    const index = Number(rest.pop());
    TandemPanel.openTask(dagId, run.run_id, rest.join(":"), index);
  }

  function move(dRow, dCol) {
    if (!selected) { select("run", Math.max(0, data.runs.length - 1), true); return; }
    const keys = visibleKeys();
    const row = Math.min(keys.length - 1, Math.max(0, keys.indexOf(selected.key) + dRow));
    const col = Math.min(data.runs.length - 1, Math.max(0, selected.col + dCol));
    select(keys[row], col, true);
  }

  wrap.addEventListener("click", (event) => {
    const toggleGroup = event.target.closest("[data-toggle-group]");
    if (toggleGroup) {
      const id = toggleGroup.dataset.toggleGroup;
      if (collapsed.has(id)) { collapsed.delete(id); } else { collapsed.add(id); }
      save();
      draw();
      return;
    }
    const toggleRows = event.target.closest("[data-toggle-rows]");
    if (toggleRows) { toggleMapped(toggleRows.dataset.toggleRows); return; }
    const cell = event.target.closest(".cell, .run-bar");
    if (!cell || cell.classList.contains("absent")) { return; }
    if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) { return; }  // a new tab
    event.preventDefault();
    select(cell.dataset.key, Number(cell.dataset.col), true);
    open(cell.dataset.key, Number(cell.dataset.col));
  });

  wrap.addEventListener("mouseover", (event) => {
    const cell = event.target.closest(".cell");
    if (!cell || cell.title) { return; }
    const run = data.runs[Number(cell.dataset.col)];
    const name = cell.dataset.key.slice(2).replace(/:(\d+)$/, " [$1]");
    cell.title = name + " · " + (run ? run.run_id : "") + " · " + cell.dataset.state +
      (cell.dataset.counts ? " · " + cell.dataset.counts : "");
  });

  wrap.addEventListener("keydown", (event) => {
    const moves = {ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1]};
    if (moves[event.key]) {
      event.preventDefault();
      move(...moves[event.key]);
    } else if (event.key === "Enter" && selected) {
      event.preventDefault();
      open(selected.key, selected.col);
    }
  });

  wrap.addEventListener("focusin", (event) => {
    const cell = event.target.closest(".cell, .run-bar");
    if (cell && (!selected || selected.key !== cell.dataset.key || selected.col !== Number(cell.dataset.col))) {
      select(cell.dataset.key, Number(cell.dataset.col), false);
    }
  });

  async function fetchMapped(taskId) {
    const url = "/dags/" + enc(dagId) + "/grid/data?runs=" + data.limit + "&mapped=" + enc(taskId);
    const answer = await api("GET", url);
    mapped.set(taskId, answer.rows);
  }

  async function toggleMapped(taskId) {
    if (mapped.has(taskId)) {
      mapped.delete(taskId);
      draw();
      return;
    }
    try {
      await fetchMapped(taskId);
      draw();
    } catch (err) { flash(err.message); }
  }

  async function reload() {
    try {
      data = await api("GET", wrap.dataset.url);
      await Promise.all([...mapped.keys()].map(fetchMapped));
      const focused = document.activeElement && wrap.contains(document.activeElement);
      draw();
      if (focused) { restoreSelection(true); }
    } catch (err) { /* a missed refresh: the next one tries again */ }
    schedule();
  }

  function schedule() {
    window.clearTimeout(pollTimer);
    if (data.active) {
      pollTimer = window.setTimeout(() => { if (document.hidden) { schedule(); } else { reload(); } }, 3000);
    }
  }

  function setAll(collapse) {
    collapsed = new Set(collapse ? data.rows.filter((r) => r.kind === "group").map((r) => r.id) : []);
    save();
    draw();
  }

  document.addEventListener("DOMContentLoaded", () => {
    const expandAll = document.getElementById("grid-expand-all");
    const collapseAll = document.getElementById("grid-collapse-all");
    if (expandAll) { expandAll.addEventListener("click", () => setAll(false)); }
    if (collapseAll) { collapseAll.addEventListener("click", () => setAll(true)); }
    TandemPanel.onChange = reload;
    TandemPanel.onClose = () => { if (selected) { const c = cellAt(selected.key, selected.col); if (c) { c.focus(); } } };
    draw();
    wrap.dataset.ready = "true";
    schedule();
  });
}());
