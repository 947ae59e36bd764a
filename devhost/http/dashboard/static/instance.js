// The instance page: header, values, timeline, lazily paged history, and the actions (public API, confirmed first).
"use strict";

(() => {
  const { el } = DH;
  const PAGE = 100;
  const id = decodeURIComponent(location.pathname.split("/").pop());
  const enc = encodeURIComponent(id);
  const base = `${DH.API}/instances/${enc}`;
  let virtual = false;
  let current = null;     // the last detail read
  let historyOffset = null; // null: follow the latest page
  let historyTotal = 0;
  const expanded = new Set(); // history rows whose values the user opened

  document.title = `${id} · devhost`;
  document.getElementById("instance-id").textContent = id;

  // Which actions make sense in which runtime status (the API refuses the rest with 409/410/400 anyway).
  const ENABLED = {
    terminate: ["Running", "Pending", "Suspended", "ContinuedAsNew"],
    raise: ["Running", "Pending", "Suspended", "ContinuedAsNew"],
    suspend: ["Running", "Pending", "ContinuedAsNew"],
    resume: ["Suspended"],
    rewind: ["Failed"],
    restart: ["Running", "Pending", "Suspended", "ContinuedAsNew", "Completed", "Failed", "Terminated", "Canceled"],
    purge: ["Completed", "Failed", "Terminated", "Canceled"],
  };

  function meta(detail) {
    const rows = [
      ["Orchestrator", detail.name],
      ["Created", `${DH.fmtTime(detail.createdTime)} (${DH.ago(detail.createdTime, virtual)})`],
      ["Last updated", `${DH.fmtTime(detail.lastUpdatedTime)} (${DH.ago(detail.lastUpdatedTime, virtual)})`],
      ["Execution id", detail.executionId],
      ["Version", detail.version || "—"],
    ];
    const nodes = rows.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })]);
    if (detail.parentInstanceId) {
      nodes.push(el("dt", { text: "Parent" }),
        el("dd", {}, el("a", { href: `/_devhost/instances/${encodeURIComponent(detail.parentInstanceId)}`, text: detail.parentInstanceId })));
    }
    document.getElementById("meta").replaceChildren(...nodes);
  }

  function renderDetail(detail) {
    current = detail;
    DH.setHostNow(detail.now);
    document.getElementById("instance-status").replaceChildren(DH.statusBadge(detail.runtimeStatus));
    meta(detail);
    const progress = document.getElementById("progress-row");
    DH.setChildren(progress,
      DH.progressBar(detail.progressPercent),
      detail.checkCount !== undefined ? el("span", { class: "muted", text: `check ${detail.checkCount}` }) : null,
      DH.alertBadges(detail.customStatus && Array.isArray(detail.customStatus.alerts) ? detail.customStatus.alerts : detail.alerts));
    document.getElementById("custom-status").replaceChildren(DH.jsonView(detail.customStatus, "custom status"));
    document.getElementById("output").replaceChildren(DH.jsonView(detail.output, "output"));
    // The input stays behind a button until asked (it can be large, and is often not what one came for).
    const input = document.getElementById("input");
    if (!input.dataset.opened) {
      input.replaceChildren(el("button", { type: "button", class: "link", id: "show-input", text: "show input",
        onclick: () => { input.dataset.opened = "1"; input.replaceChildren(DH.jsonView(current.input, "input")); } }));
    } else {
      input.replaceChildren(DH.jsonView(detail.input, "input"));
    }
    const failed = detail.failure !== null && detail.failure !== undefined;
    document.getElementById("failure-card").hidden = !failed;
    if (failed) document.getElementById("failure").replaceChildren(DH.jsonView(detail.failure, "failure details"));
    for (const button of document.querySelectorAll("#actions button")) {
      button.disabled = !ENABLED[button.dataset.action].includes(detail.runtimeStatus);
    }
  }

  function valueCell(label, value, row) {
    if (!value) return null;
    const open = expanded.has(row.index);
    return el("div", { class: "value" },
      el("span", { class: "muted", text: `${label}: ` }),
      open ? null : el("code", { class: "preview", text: value.preview + (value.size > value.preview.length ? "…" : "") }),
      value.size > 40 && !open ? el("button", { type: "button", class: "link", "data-expand": String(row.index),
        text: `show (${value.size.toLocaleString()} chars)`, onclick: () => expand(row.index) }) : null);
  }

  async function expand(index) {
    expanded.add(index);
    await loadHistory();
  }

  function details(row) {
    const parts = [];
    if (row.state) parts.push(el("span", { class: `state state-${row.state}`, text: row.state }));
    if (row.taskId !== undefined && row.taskId !== null && row.taskId !== -1) parts.push(el("span", { class: "muted", text: `task ${row.taskId}` }));
    if (row.fireAt) {
      parts.push(el("span", { text: `due ${DH.fmtTime(row.fireAt)}` }));
      if (row.remainingSeconds !== undefined) parts.push(el("span", { class: "remaining", text: `${DH.fmtDuration(row.remainingSeconds)} left` }));
    }
    if (row.scheduledAt) parts.push(el("span", { class: "muted", text: `took ${((Date.parse(row.timestamp) - Date.parse(row.scheduledAt)) / 1000).toFixed(3)} s` }));
    if (row.subInstanceId) parts.push(el("a", { href: `/_devhost/instances/${encodeURIComponent(row.subInstanceId)}`, text: row.subInstanceId }));
    if (row.failure) parts.push(el("span", { class: "error-text", text: row.failure }));
    return el("td", {}, el("div", { class: "inline" }, parts),
      valueCell("input", row.input, row), valueCell("result", row.result, row),
      valueCell("reason", row.reason, row), valueCell("details", row.details, row),
      expanded.has(row.index) ? el("div", { class: "full", "data-full": String(row.index), text: "loading…" }) : null);
  }

  async function loadHistory() {
    const where = historyOffset === null ? `last=${PAGE}` : `offset=${historyOffset}&limit=${PAGE}`;
    const page = await DH.getJSON(`${base}/history?${where}`);
    historyTotal = page.total;
    const tbody = document.querySelector("#history tbody");
    tbody.replaceChildren(...page.events.map((row) => el("tr", { "data-type": row.type, "data-index": String(row.index) },
      el("td", { class: "muted", text: String(row.index) }),
      el("td", { class: "mono small", title: row.timestamp, text: (row.timestamp || "").slice(11, 23) }),
      el("td", { text: row.type }),
      el("td", { text: row.name || "" }),
      details(row))));
    document.getElementById("history-count").textContent = `${page.total.toLocaleString()} events`;
    document.getElementById("h-range").textContent = page.events.length
      ? `${page.offset + 1}–${page.offset + page.events.length} of ${page.total.toLocaleString()}` : "";
    document.getElementById("h-prev").disabled = page.offset === 0;
    document.getElementById("h-first").disabled = page.offset === 0;
    document.getElementById("h-next").disabled = page.offset + PAGE >= page.total;
    document.getElementById("h-last").disabled = page.offset + PAGE >= page.total;
    for (const cell of tbody.querySelectorAll("[data-full]")) {
      const event = await DH.getJSON(`${base}/history/${cell.dataset.full}`);
      const shown = {};
      for (const key of ["Input", "Result", "Reason", "Details", "FailureDetails"]) if (event[key] !== undefined && event[key] !== null) shown[key] = event[key];
      cell.replaceChildren(el("pre", { class: "json", text: JSON.stringify(shown, null, 2) }));
    }
  }

  async function tick() {
    // The reads go out together; the history and timeline wait for the header only to be drawn after it.
    const [info, detailRead, timelineRead, historyRead] = await Promise.allSettled(
      [DH.refreshClock(), DH.getJSON(base), DH.getJSON(`${base}/timeline`), loadHistory()]);
    if (info.status === "rejected") throw info.reason;
    virtual = info.value.virtualTime;
    let detail;
    try {
      if (detailRead.status === "rejected") throw detailRead.reason;
      detail = detailRead.value;
    } catch (e) {
      if (e.status === 404) {
        document.getElementById("instance-status").replaceChildren(el("span", { class: "badge status-missing", text: "not found" }));
        const missing = document.getElementById("missing");
        missing.textContent = `No instance with id ${id} (purged, or never started).`;
        missing.hidden = false;
        for (const button of document.querySelectorAll("#actions button")) button.disabled = true;
        return;
      }
      throw e;
    }
    document.getElementById("missing").hidden = true;
    renderDetail(detail);
    if (timelineRead.status === "rejected") throw timelineRead.reason;
    if (historyRead.status === "rejected") throw historyRead.reason;
    const timeline = timelineRead.value;
    document.getElementById("timeline-note").textContent =
      timeline.total > timeline.bars.length ? `(the latest ${timeline.bars.length} of ${timeline.total})` : "";
    Timeline.draw(document.getElementById("timeline"), timeline, DH.now(virtual));
    const waiting = document.getElementById("waiting");
    waiting.hidden = !timeline.waiting.length;
    waiting.replaceChildren(el("span", { class: "muted", text: "Waiting on: " }), ...timeline.waiting.map((w, i) =>
      el("span", { class: "waiting-item", "data-kind": w.kind },
        i ? " · " : "",
        w.kind === "timer"
          ? `timer due ${DH.fmtTime(w.due)} (${DH.fmtDuration(w.remainingSeconds)} left)`
          : `${w.kind === "activity" ? "activity" : "sub-orchestration"} ${w.name} (since ${DH.ago(w.since, virtual).replace(" ago", "")})`)));
  }

  document.getElementById("show-markers").addEventListener("change", (event) => {
    document.getElementById("history").classList.toggle("hide-markers", !event.target.checked);
  });

  const refresher = DH.autoRefresh(document.getElementById("refresh-toggle"), tick);

  const pageTo = (offset) => { historyOffset = offset; loadHistory().catch((e) => DH.toast(e.message, "error")); };
  const shown = () => (historyOffset === null ? Math.max(0, historyTotal - PAGE) : historyOffset);
  document.getElementById("h-first").addEventListener("click", () => pageTo(0));
  document.getElementById("h-prev").addEventListener("click", () => pageTo(Math.max(0, shown() - PAGE)));
  document.getElementById("h-next").addEventListener("click", () => pageTo(shown() + PAGE >= historyTotal - PAGE ? null : shown() + PAGE));
  document.getElementById("h-last").addEventListener("click", () => pageTo(null));

  // --- actions: each one the public Durable HTTP API call, after a confirm step ---------------------------
  const reasonField = { name: "reason", label: "Reason (optional)", placeholder: "why" };
  const ACTIONS = {
    terminate: { title: "Terminate", message: `Terminate ${id}? It stops at its next step and cannot be resumed.`, fields: [reasonField],
      call: (v) => DH.callApi("POST", `/instances/${enc}/terminate?reason=${encodeURIComponent(v.reason)}`) },
    raise: { title: "Raise event", message: `Send an external event to ${id}.`,
      fields: [{ name: "event", label: "Event name", placeholder: "Approval", validate: (s) => (s.trim() ? null : "An event name is required.") },
               { name: "data", label: "Data (JSON, optional)", multiline: true, placeholder: "true", validate: DH.validJSON }],
      call: (v) => DH.callApi("POST", `/instances/${enc}/raiseEvent/${encodeURIComponent(v.event.trim())}`, v.data.trim() ? v.data : "null") },
    suspend: { title: "Suspend", message: `Suspend ${id}? It keeps its state and takes no steps until resumed.`, fields: [reasonField],
      call: (v) => DH.callApi("POST", `/instances/${enc}/suspend?reason=${encodeURIComponent(v.reason)}`) },
    resume: { title: "Resume", message: `Resume ${id}?`, fields: [reasonField],
      call: (v) => DH.callApi("POST", `/instances/${enc}/resume?reason=${encodeURIComponent(v.reason)}`) },
    rewind: { title: "Rewind", message: `Rewind the failed instance ${id}? Failed steps run again.`, fields: [reasonField],
      call: (v) => DH.callApi("POST", `/instances/${enc}/rewind?reason=${encodeURIComponent(v.reason)}`) },
    restart: { title: "Restart", message: `Start ${id}'s orchestrator again with the same input, under a new instance id?`, fields: [],
      call: () => DH.callApi("POST", `/instances/${enc}/restart?restartWithNewInstanceId=true`) },
    purge: { title: "Purge", message: `Delete ${id} and its whole history? This cannot be undone.`, fields: [],
      call: () => DH.callApi("DELETE", `/instances/${enc}`) },
  };

  for (const button of document.querySelectorAll("#actions button")) {
    button.addEventListener("click", async () => {
      const action = ACTIONS[button.dataset.action];
      const values = await DH.confirmDialog(action.title, action.message, action.fields);
      if (values === null) return;
      const result = await action.call(values);
      DH.toast(`${action.title}: ${DH.describeResult(result)}`, result.ok ? "ok" : "error");
      if (result.ok && button.dataset.action === "restart" && result.body && result.body.id) {
        const link = el("a", { href: `/_devhost/instances/${encodeURIComponent(result.body.id)}`, text: ` open ${result.body.id}` });
        document.getElementById("toast").append(link);
      }
      refresher.refreshNow();
    });
  }

  refresher.start();
})();
