// The task log: lines coloured by level, ::group::/::endgroup:: sections folded (as in Airflow),
// a follow toggle that keeps appending a running try's log without reloading, and a download link.
"use strict";

const LEVELS = [[/\b(ERROR|CRITICAL|FATAL)\b/, "error"], [/\b(WARNING|WARN)\b/, "warning"],
                [/\bINFO\b/, "info"], [/\bDEBUG\b/, "debug"]];

function levelOf(line) {
  for (const [pattern, level] of LEVELS) { if (pattern.test(line)) { return level; } }
  return "";
}

class LogView {
  constructor(pre) {
    this.pre = pre;
    this.stack = [pre];  // open groups, innermost last
    this.partial = "";   // an unfinished last line, kept until its newline arrives
    this.partialNode = null;
  }

  append(text) {
    const lines = (this.partial + text).split("\n");
    if (this.partialNode) { this.partialNode.remove(); this.partialNode = null; }
    this.partial = lines.pop();
    lines.forEach((line) => this.line(line));
    if (this.partial) { this.partialNode = this.line(this.partial, true); }
  }

  line(line, unfinished) {
    const target = this.stack[this.stack.length - 1];
    const group = !unfinished && line.match(/::group::(.*)$/);
    if (group) {
      const details = document.createElement("details");
      details.className = "log-group";
      const summary = document.createElement("summary");
      summary.textContent = group[1].trim() || "group";
      details.appendChild(summary);
      target.appendChild(details);
      this.stack.push(details);
      return details;
    }
    if (!unfinished && /::endgroup::\s*$/.test(line)) {
      if (this.stack.length > 1) { this.stack.pop(); }
      return null;
    }
    const span = document.createElement("span");
    const level = levelOf(line);
    span.className = "log-line" + (level ? " log-" + level : "");
    span.textContent = line + (unfinished ? "" : "\n");
    target.appendChild(span);
    return span;
  }
}

function wireLogView() {
  const pre = document.getElementById("log");
  if (!pre) { return; }
  const view = new LogView(pre);
  const follow = document.getElementById("log-follow");
  let token = null;
  let timer = null;
  const poll = async () => {
    timer = null;
    const url = pre.dataset.url + (token ? "&token=" + encodeURIComponent(token) : "");
    try {
      const data = await api("GET", url);
      if (data.content) {
        view.append(data.content);
        if (follow && follow.checked) { pre.scrollTop = pre.scrollHeight; }
      }
      token = data.continuation_token;
      pre.dataset.loaded = "true";
      if (data.end_of_log) {
        pre.dataset.ended = "true";
        if (follow) { follow.checked = false; follow.disabled = true; }
      } else if (!follow || follow.checked) {
        timer = window.setTimeout(poll, 1500);
      }
    } catch (err) {
      pre.dataset.loaded = "true";
      view.append("*** " + err.message + "\n");
    }
  };
  if (follow) {
    follow.addEventListener("change", () => {
      if (follow.checked && timer === null && pre.dataset.ended !== "true") { poll(); }
      if (!follow.checked && timer !== null) { window.clearTimeout(timer); timer = null; }
    });
  }
  const expand = document.getElementById("log-expand");
  if (expand) {
    expand.addEventListener("click", () => {
      const groups = pre.querySelectorAll("details.log-group");
      const open = Array.from(groups).some((g) => !g.open);
      groups.forEach((g) => { g.open = open; });
      expand.textContent = open ? "Collapse groups" : "Expand groups";
    });
  }
  poll();
}

document.addEventListener("DOMContentLoaded", wireLogView);
