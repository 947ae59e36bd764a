// The instance list: filters held in the URL, cursor paging, auto-refresh with pause, Start.
"use strict";

(() => {
  const { el } = DH;
  const FILTERS = ["status", "name", "prefix", "from", "to", "q", "waiting"];
  const LABELS = { status: "status", name: "orchestrator", prefix: "id prefix", from: "created from", to: "created to",
                   q: "custom status", waiting: "waiting on" };
  const PAGE_SIZE = 50;
  let virtual = false;
  let cursors = [];   // cursors of the pages before this one (for "Previous")
  let nextCursor = null;

  const params = () => new URLSearchParams(location.search);

  function filtersFromUrl() {
    const p = params();
    const out = {};
    for (const key of FILTERS) if (p.get(key)) out[key] = p.get(key);
    return out;
  }

  function writeUrl(filters, cursor) {
    const p = new URLSearchParams();
    for (const key of FILTERS) if (filters[key]) p.set(key, filters[key]);
    if (cursor) p.set("cursor", cursor);
    const query = p.toString();
    history.replaceState(null, "", location.pathname + (query ? "?" + query : ""));
  }

  // datetime-local has no zone: the form says UTC, so the value is sent as UTC.
  const toIso = (local) => (local ? (local.length === 16 ? local + ":00" : local) + "Z" : "");
  const fromIso = (iso) => (iso ? iso.replace(/Z$/, "").replace(/\.\d+$/, "").slice(0, 19) : "");

  function fillForm(filters) {
    document.getElementById("f-status").value = filters.status || "";
    document.getElementById("f-name").value = filters.name || "";
    document.getElementById("f-prefix").value = filters.prefix || "";
    document.getElementById("f-from").value = fromIso(filters.from);
    document.getElementById("f-to").value = fromIso(filters.to);
    document.getElementById("f-q").value = filters.q || "";
    document.getElementById("f-waiting").value = filters.waiting || "";
  }

  function readForm() {
    const form = new FormData(document.getElementById("filters"));
    const out = {};
    for (const key of FILTERS) {
      let value = (form.get(key) || "").trim();
      if (key === "from" || key === "to") value = toIso(value);
      if (value) out[key] = value;
    }
    return out;
  }

  function showChips(filters) {
    const keys = Object.keys(filters);
    const box = document.getElementById("active-filters");
    box.hidden = keys.length === 0;
    document.getElementById("chip-list").replaceChildren(...keys.map((key) =>
      el("span", { class: "chip", "data-filter": key },
        `${LABELS[key]}: ${filters[key]}`,
        el("button", { type: "button", class: "chip-x", title: `remove the ${LABELS[key]} filter`, "aria-label": `remove ${LABELS[key]} filter`,
                       onclick: () => { const f = filtersFromUrl(); delete f[key]; apply(f); } }, "×"))));
  }

  function apply(filters) {
    cursors = [];
    writeUrl(filters, null);
    fillForm(filters);
    refresher.refreshNow();
  }

  function row(item) {
    const link = el("a", { href: `/_devhost/instances/${encodeURIComponent(item.instanceId)}`, text: item.instanceId });
    const status = el("td", {}, el("div", { class: "custom" },
      DH.progressBar(item.progressPercent),
      DH.alertBadges(item.alerts),
      el("span", { class: "summary", title: item.customStatusSummary, text: item.customStatusSummary })));
    return el("tr", { "data-instance-id": item.instanceId, "data-status": item.runtimeStatus },
      el("td", { class: "mono" }, link),
      el("td", { text: item.name }),
      el("td", {}, DH.statusBadge(item.runtimeStatus)),
      el("td", { class: "nowrap", title: DH.fmtTime(item.createdTime) }, DH.ago(item.createdTime, virtual)),
      el("td", { class: "nowrap", title: DH.fmtTime(item.lastUpdatedTime) }, DH.ago(item.lastUpdatedTime, virtual)),
      status);
  }

  async function load() {
    const info = await DH.refreshClock();
    virtual = info.virtualTime;
    const names = document.getElementById("orchestrator-names");
    if (!names.children.length) {
      names.replaceChildren(...info.orchestrators.map((n) => el("option", { value: n })));
      document.getElementById("start-name").replaceChildren(...info.orchestrators.map((n) => el("option", { value: n, text: n })));
    }
    const filters = filtersFromUrl();
    showChips(filters);
    const query = new URLSearchParams(filters);
    query.set("top", String(PAGE_SIZE));
    const cursor = params().get("cursor");
    if (cursor) query.set("cursor", cursor);
    const tbody = document.querySelector("#instances tbody");
    let page;
    try {
      page = await DH.getJSON(`${DH.API}/instances?${query}`);
    } catch (e) {
      tbody.replaceChildren();
      DH.toast(e.status === 400 ? `Filter problem: ${e.message}` : e.message, "error");
      return;
    }
    document.getElementById("toast").hidden = true;
    DH.setHostNow(page.now);
    tbody.replaceChildren(...page.instances.map(row));
    document.getElementById("empty").hidden = page.instances.length > 0;
    nextCursor = page.nextCursor;
    document.getElementById("next-page").disabled = !nextCursor;
    document.getElementById("prev-page").disabled = cursors.length === 0 && !cursor;
    document.getElementById("first-page").disabled = !cursor;
    const first = cursors.length * PAGE_SIZE + 1;
    document.getElementById("page-info").textContent = page.instances.length
      ? `${first}–${first + page.instances.length - 1}${page.complete ? "" : " (page cut short: more may match on the next page)"}`
      : "";
    document.getElementById("updated").textContent = `updated ${DH.fmtTime(page.now)}`;
  }

  const refresher = DH.autoRefresh(document.getElementById("refresh-toggle"), load);

  document.getElementById("filters").addEventListener("submit", (event) => { event.preventDefault(); apply(readForm()); });
  document.getElementById("clear-filters").addEventListener("click", () => apply({}));
  document.getElementById("failed-only").addEventListener("click", () => apply({ ...filtersFromUrl(), status: "Failed" }));
  document.getElementById("waiting-timer").addEventListener("click", () => {
    const filters = { ...filtersFromUrl(), waiting: "timer" };
    delete filters.status; // only Running and Suspended instances wait; the host narrows to them
    apply(filters);
  });
  document.getElementById("next-page").addEventListener("click", () => {
    if (!nextCursor) return;
    cursors.push(params().get("cursor") || "");
    writeUrl(filtersFromUrl(), nextCursor);
    refresher.refreshNow();
  });
  document.getElementById("prev-page").addEventListener("click", () => {
    const previous = cursors.length ? cursors.pop() : "";
    writeUrl(filtersFromUrl(), previous || null);
    refresher.refreshNow();
  });
  document.getElementById("first-page").addEventListener("click", () => apply(filtersFromUrl()));

  // Start: name + optional id + JSON input, through the public API (POST orchestrators/{name}[/{id}]).
  const dialog = document.getElementById("start-dialog");
  document.getElementById("start-open").addEventListener("click", () => {
    document.getElementById("start-error").textContent = "";
    dialog.showModal();
  });
  document.getElementById("start-cancel").addEventListener("click", () => dialog.close());
  document.getElementById("start-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = document.getElementById("start-name").value;
    const id = document.getElementById("start-id").value.trim();
    const input = document.getElementById("start-input").value;
    const problem = DH.validJSON(input);
    const error = document.getElementById("start-error");
    if (!name) { error.textContent = "Choose an orchestrator."; return; }
    if (problem) { error.textContent = problem; return; }
    const path = `/orchestrators/${encodeURIComponent(name)}` + (id ? `/${encodeURIComponent(id)}` : "");
    const result = await DH.callApi("POST", path, input.trim() ? input : undefined);
    if (!result.ok) { error.textContent = DH.describeResult(result); return; }
    dialog.close();
    const started = result.body && result.body.id;
    DH.toast(`Started ${started}.`, "ok");
    refresher.refreshNow();
  });

  fillForm(filtersFromUrl());
  refresher.start();
})();
