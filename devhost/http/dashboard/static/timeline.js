// The instance timeline: one lane per activity / timer / sub-orchestration name, bars on a shared time axis (SVG).
"use strict";

const Timeline = (() => {
  const NS = "http://www.w3.org/2000/svg";
  const LANE = 22, LABEL = 170, AXIS = 22, PAD = 10;

  function svg(tag, attrs, text) {
    const node = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function draw(container, data, now) {
    const bars = data.bars;
    if (!bars.length) {
      container.replaceChildren(DH.el("p", { class: "muted", text: "No activities, timers or sub-orchestrations yet." }));
      return;
    }
    const nowMs = now.getTime();
    const t = (iso) => (iso ? Date.parse(iso) : nowMs);
    const start = Math.min(data.start ? t(data.start) : Infinity, ...bars.map((b) => t(b.start)));
    const end = Math.max(data.end ? t(data.end) : 0, ...bars.map((b) => (b.end ? t(b.end) : Math.max(nowMs, b.due ? t(b.due) : 0))));
    const span = Math.max(end - start, 1);
    const lanes = [];
    for (const b of bars) {
      const key = `${b.kind}:${b.name}`;
      if (!lanes.includes(key)) lanes.push(key);
    }
    const width = Math.max(container.clientWidth || 800, 400);
    const plot = width - LABEL - PAD;
    const height = AXIS + lanes.length * LANE + PAD;
    const x = (ms) => LABEL + ((ms - start) / span) * plot;
    const root = svg("svg", { width: String(width), height: String(height), viewBox: `0 0 ${width} ${height}`, role: "img",
                              "aria-label": "timeline of activities and timers" });
    for (let i = 0; i <= 4; i++) {
      const ms = start + (span * i) / 4;
      const px = x(ms);
      root.append(svg("line", { x1: px, x2: px, y1: AXIS - 4, y2: height - PAD, class: "tick" }));
      root.append(svg("text", { x: Math.min(px, width - 60), y: 12, class: "axis" }, new Date(ms).toISOString().slice(11, 19)));
    }
    lanes.forEach((key, i) => {
      const [kind, name] = [key.slice(0, key.indexOf(":")), key.slice(key.indexOf(":") + 1)];
      root.append(svg("text", { x: 4, y: AXIS + i * LANE + 15, class: `lane lane-${kind}` }, `${kind === "suborchestration" ? "sub: " : ""}${name}`.slice(0, 26)));
    });
    for (const b of bars) {
      const lane = lanes.indexOf(`${b.kind}:${b.name}`);
      const from = x(t(b.start));
      const to = x(b.end ? t(b.end) : b.kind === "timer" && b.due ? t(b.due) : nowMs);
      const rect = svg("rect", { x: from, y: AXIS + lane * LANE + 3, width: Math.max(to - from, 3), height: LANE - 8, rx: 2,
                                 class: `bar bar-${b.kind} bar-${b.state}` });
      const took = b.end ? `${((t(b.end) - t(b.start)) / 1000).toFixed(3)} s` : b.kind === "timer" ? `due ${DH.fmtTime(b.due)}` : "running";
      rect.append(svg("title", {}, `${b.name} (${b.kind}, ${b.state}) ${DH.fmtTime(b.start)} · ${took}`));
      root.append(rect);
    }
    container.replaceChildren(root);
  }

  return { draw };
})();
