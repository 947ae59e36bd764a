// devhost dashboard: helpers shared by the list and instance pages (plain JS, no dependencies).
"use strict";

const DH = (() => {
  const API = "/_devhost/api";
  const WEBHOOKS = "/runtime/webhooks/durabletask";
  const REFRESH_MS = 2000;
  const COLLAPSE_CHARS = 2000; // JSON longer than this starts collapsed

  let hostNow = null; // Date: the host's clock (virtual under the test kit)
  let hostNowAt = 0;  // performance.now() when hostNow was read

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // node.replaceChildren() with the same rule as el(): null, undefined and false are left out (the DOM method
  // itself would print them as the text "null").
  function setChildren(node, ...children) {
    node.replaceChildren(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
  }

  async function getJSON(path) {
    const response = await fetch(path, { headers: { Accept: "application/json" } });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new Error(body.message || body.Message || `HTTP ${response.status}`);
      error.status = response.status;
      throw error;
    }
    return body;
  }

  // A call to the public Durable HTTP API; resolves to {status, body} and never throws for an HTTP status.
  async function callApi(method, path, jsonBody) {
    const init = { method, headers: {} };
    if (jsonBody !== undefined) {
      init.body = jsonBody;
      init.headers["Content-Type"] = "application/json";
    }
    const response = await fetch(WEBHOOKS + path, init);
    const text = await response.text();
    let body = text;
    try { body = text ? JSON.parse(text) : null; } catch (_) { /* keep the text */ }
    return { status: response.status, ok: response.ok, body };
  }

  function setHostNow(iso) {
    if (!iso) return;
    hostNow = new Date(iso);
    hostNowAt = performance.now();
  }

  // The host's "now": extrapolated on a real clock; frozen between reads on a virtual one.
  function now(virtual) {
    if (!hostNow) return new Date();
    return virtual ? hostNow : new Date(hostNow.getTime() + (performance.now() - hostNowAt));
  }

  function fmtTime(iso) {
    if (!iso) return "";
    return iso.replace("T", " ").replace(/\.\d+Z$/, "").replace(/Z$/, "") + " UTC";
  }

  function fmtDuration(seconds) {
    const s = Math.abs(Math.round(seconds));
    if (s < 60) return `${s}s`;
    if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
    if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
    return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
  }

  function ago(iso, virtual) {
    if (!iso) return "";
    const seconds = (now(virtual) - new Date(iso)) / 1000;
    return seconds >= 0 ? `${fmtDuration(seconds)} ago` : `in ${fmtDuration(seconds)}`;
  }

  function statusBadge(status) {
    return el("span", { class: `badge status-${(status || "").toLowerCase()}`, "data-status": status, text: status });
  }

  function progressBar(percent) {
    if (percent === null || percent === undefined) return null;
    const value = Math.max(0, Math.min(100, Number(percent)));
    return el("div", { class: "progress", role: "progressbar", "aria-valuenow": String(value),
                       "aria-valuemin": "0", "aria-valuemax": "100", title: `${value}%` },
      el("div", { class: "progress-fill", style: `width:${value}%` }),
      el("span", { class: "progress-label", text: `${value}%` }));
  }

  function alertBadges(alerts) {
    if (!alerts || !alerts.length) return null;
    return el("span", { class: "alerts" }, alerts.map((a) =>
      el("span", { class: `badge alert alert-${a.severity || "info"}`, title: a.message || a.name, text: a.name })));
  }

  // Pretty JSON; long values start collapsed behind a "show" button (inputs hidden until asked).
  function jsonView(value, label) {
    if (value === undefined) return el("span", { class: "muted", text: "—" });
    const text = typeof value === "string" ? value : JSON.stringify(value, null, 2);
    if (value === null) return el("code", { class: "muted", text: "null" });
    const pre = el("pre", { class: "json", text: text });
    if (text.length <= COLLAPSE_CHARS) return pre;
    const wrapper = el("div", { class: "collapsed-json" });
    const button = el("button", { class: "link", type: "button", text: `show ${label || "value"} (${text.length.toLocaleString()} chars)` });
    button.addEventListener("click", () => { wrapper.replaceChildren(pre); });
    wrapper.append(button);
    return wrapper;
  }

  // A modal confirm step for every action: resolves to the form's values, or null when cancelled.
  function confirmDialog(title, message, fields) {
    return new Promise((resolve) => {
      const inputs = {};
      const form = el("form", { method: "dialog", class: "dialog-form" },
        el("h2", { text: title }),
        el("p", { text: message }),
        (fields || []).map((f) => {
          const input = f.multiline
            ? el("textarea", { name: f.name, rows: "4", placeholder: f.placeholder || "" })
            : el("input", { name: f.name, type: "text", placeholder: f.placeholder || "", value: f.value || "" });
          if (f.multiline && f.value) input.value = f.value;
          inputs[f.name] = input;
          return el("label", {}, el("span", { text: f.label }), input);
        }),
        el("p", { class: "dialog-error", role: "alert" }),
        el("div", { class: "dialog-buttons" },
          el("button", { type: "button", class: "secondary", value: "cancel", text: "Cancel" }),
          el("button", { type: "submit", class: "danger", value: "ok", text: "Confirm" })));
      const dialog = el("dialog", { class: "confirm" }, form);
      const finish = (result) => { dialog.close(); dialog.remove(); resolve(result); };
      form.querySelector("button.secondary").addEventListener("click", () => finish(null));
      dialog.addEventListener("cancel", (event) => { event.preventDefault(); finish(null); });
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        const values = {};
        for (const [name, input] of Object.entries(inputs)) values[name] = input.value;
        const problem = (fields || []).map((f) => f.validate && f.validate(values[f.name])).find(Boolean);
        if (problem) { form.querySelector(".dialog-error").textContent = problem; return; }
        finish(values);
      });
      document.body.append(dialog);
      dialog.showModal();
    });
  }

  function validJSON(text) {
    if (!text.trim()) return null;
    try { JSON.parse(text); return null; } catch (e) { return `Not valid JSON: ${e.message}`; }
  }

  function describeResult(result) {
    if (result.ok) return `Accepted (HTTP ${result.status}).`;
    const body = result.body;
    const detail = body && typeof body === "object" ? (body.Message || body.message || JSON.stringify(body)) : (body || "");
    return `Refused (HTTP ${result.status})${detail ? ": " + detail : ""}`;
  }

  function toast(message, kind) {
    const box = document.getElementById("toast");
    if (!box) return;
    box.textContent = message;
    box.className = `toast ${kind || ""}`;
    box.hidden = false;
  }

  // The header's host clock: virtual time is labelled, so nobody mistakes it for the wall clock.
  async function refreshClock() {
    const info = await getJSON(`${API}/info`);
    setHostNow(info.now);
    const clock = document.getElementById("host-clock");
    if (clock) {
      setChildren(clock,
        el("span", { id: "host-now", text: fmtTime(info.now) }),
        info.virtualTime ? el("span", { class: "badge virtual", title: "the host runs on the test kit's virtual clock", text: "virtual time" }) : null);
    }
    const hub = document.getElementById("hub");
    if (hub) hub.textContent = `hub ${info.hub} · devhost ${info.version}`;
    return info;
  }

  // Auto-refresh with a pause button; tick() returns a promise, failures show and keep the timer going.
  function autoRefresh(button, tick) {
    let paused = false;
    let timer = null;
    let generation = 0; // only the newest run re-arms the timer, so a manual refresh never doubles the loop
    const schedule = () => { timer = setTimeout(run, REFRESH_MS); };
    const run = async () => {
      if (paused) return;
      clearTimeout(timer);
      const mine = ++generation;
      try { await tick(); } catch (e) { toast(`Refresh failed: ${e.message}`, "error"); }
      if (!paused && mine === generation) schedule();
    };
    button.addEventListener("click", () => {
      paused = !paused;
      button.textContent = paused ? "Resume refresh" : "Pause refresh";
      button.setAttribute("aria-pressed", String(paused));
      if (!paused) run(); else clearTimeout(timer);
    });
    return { start: run, refreshNow: run, isPaused: () => paused };
  }

  return { API, WEBHOOKS, el, setChildren, getJSON, callApi, setHostNow, now, fmtTime, fmtDuration, ago, statusBadge,
           progressBar, alertBadges, jsonView, confirmDialog, validJSON, describeResult, toast, refreshClock,
           autoRefresh };
})();
