// The graph view: zoom (wheel, buttons, + and -), pan (drag, arrow keys) and fit (button, 0,
// and on load: a big graph is shrunk to the viewport, a small one kept at full size), all by
// moving the SVG's viewBox. Clicking a task node opens the details panel for the chosen run.
"use strict";

(function () {
  const svg = document.getElementById("graph");
  if (!svg) { return; }
  const W = Number(svg.dataset.width), H = Number(svg.dataset.height);
  const MIN = 0.05, MAX = 4;
  const view = {x: 0, y: 0, w: W, h: H};
  let drag = null;
  let dragged = false;
  // Once the user has zoomed or panned, a resize keeps their view instead of fitting again.
  let moved = false;

  function size() { return {cw: svg.clientWidth || 1, ch: svg.clientHeight || 1}; }
  function scale() { return size().cw / view.w; }

  function apply() {
    svg.setAttribute("viewBox", [view.x, view.y, view.w, view.h].map((v) => v.toFixed(1)).join(" "));
    svg.dataset.scale = scale().toFixed(3);
    const label = document.getElementById("zoom-level");
    if (label) { label.textContent = Math.round(scale() * 100) + "%"; }
  }

  function setScale(s, cx, cy) {
    const {cw, ch} = size();
    s = Math.min(MAX, Math.max(MIN, s));
    moved = true;
    // Keep the point under (cx, cy) in place.
    const ux = view.x + (cx / cw) * view.w, uy = view.y + (cy / ch) * view.h;
    view.w = cw / s;
    view.h = ch / s;
    view.x = ux - (cx / cw) * view.w;
    view.y = uy - (cy / ch) * view.h;
    apply();
  }

  function fit() {
    moved = false;
    const {cw, ch} = size();
    const s = Math.min(cw / W, ch / H, 1);
    view.w = cw / s;
    view.h = ch / s;
    view.x = (W - view.w) / 2;
    view.y = (H - view.h) / 2;
    apply();
  }

  function zoomBy(factor) { const {cw, ch} = size(); setScale(scale() * factor, cw / 2, ch / 2); }
  function panBy(dx, dy) { moved = true; view.x += dx / scale(); view.y += dy / scale(); apply(); }

  svg.addEventListener("wheel", (event) => {
    event.preventDefault();
    const box = svg.getBoundingClientRect();
    setScale(scale() * Math.exp(-event.deltaY * 0.0015), event.clientX - box.left, event.clientY - box.top);
  }, {passive: false});

  svg.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) { return; }
    drag = {x: event.clientX, y: event.clientY, vx: view.x, vy: view.y, id: event.pointerId};
    dragged = false;
  });
  svg.addEventListener("pointermove", (event) => {
    if (!drag) { return; }
    const dx = event.clientX - drag.x, dy = event.clientY - drag.y;
    if (!dragged && Math.abs(dx) + Math.abs(dy) < 4) { return; }
    if (!dragged) { svg.setPointerCapture(drag.id); svg.classList.add("panning"); }
    dragged = true;
    moved = true;
    view.x = drag.vx - dx / scale();
    view.y = drag.vy - dy / scale();
    apply();
  });
  const release = () => { drag = null; svg.classList.remove("panning"); };
  svg.addEventListener("pointerup", release);
  svg.addEventListener("pointercancel", release);

  svg.addEventListener("click", (event) => {
    if (dragged) { event.preventDefault(); dragged = false; return; }  // the end of a pan, not a click
    const link = event.target.closest(".node-link[data-task-id]");
    if (!link || !svg.dataset.runId || event.ctrlKey || event.metaKey || event.shiftKey) { return; }
    event.preventDefault();
    svg.querySelectorAll(".node.selected").forEach((n) => n.classList.remove("selected"));
    link.querySelector(".node").classList.add("selected");
    TandemPanel.openTask(svg.dataset.dagId, svg.dataset.runId, link.dataset.taskId, -1);
  });

  svg.addEventListener("keydown", (event) => {
    const steps = {ArrowLeft: [-60, 0], ArrowRight: [60, 0], ArrowUp: [0, -60], ArrowDown: [0, 60]};
    if (event.key === "+" || event.key === "=") { zoomBy(1.25); } else if (event.key === "-") { zoomBy(0.8); } else if (event.key === "0") { fit(); } else if (steps[event.key]) { panBy(...steps[event.key]); } else { return; }
    event.preventDefault();
  });

  // While the run moves, node states are polled and updated in place (zoom and panel stay).
  let timer = null;
  function schedule() { window.clearTimeout(timer); timer = window.setTimeout(poll, 3000); }
  async function poll() {
    window.clearTimeout(timer);
    if (document.hidden) { schedule(); return; }
    try {
      const data = await api("GET", window.location.pathname + "/states" + window.location.search);
      Object.entries(data.nodes).forEach(([id, node]) => {
        const link = [...svg.querySelectorAll(".node-link")].find((a) => a.dataset.nodeId === id);
        const g = link && link.querySelector("g.node");
        if (!g) { return; }
        g.classList.remove("state-" + g.dataset.state);
        g.classList.add("state-" + node.state);
        g.dataset.state = node.state;
        const badge = g.querySelector(".map-badge");
        if (badge && node.map_count !== null) { badge.textContent = "[" + node.map_count + "]"; }
      });
      const runState = document.getElementById("run-state");
      if (runState && data.run_state) { runState.textContent = data.run_state; }
      svg.dataset.active = data.active ? "true" : "false";
    } catch (err) { /* the next poll tries again */ }
    if (svg.dataset.active === "true") { schedule(); }
  }

  document.addEventListener("DOMContentLoaded", () => {
    if (svg.dataset.active === "true") { schedule(); }
    TandemPanel.onChange = () => { if (svg.dataset.runId) { poll(); } };
    const on = (id, f) => { const b = document.getElementById(id); if (b) { b.addEventListener("click", f); } };
    on("zoom-in", () => zoomBy(1.25));
    on("zoom-out", () => zoomBy(0.8));
    on("zoom-fit", fit);
    fit();
    svg.dataset.ready = "true";
    let resized = null;
    window.addEventListener("resize", () => { window.clearTimeout(resized); resized = window.setTimeout(() => (moved ? apply() : fit()), 150); });
  });
}());
