// qstack report: draws the message sequence chart from the JSON in the page
// and redraws it when a filter changes. No library, no network.
"use strict";

(function () {
  const source = document.getElementById("seq-data");
  const chart = document.getElementById("seq-chart");
  if (!source || !chart) {
    return;
  }
  const data = JSON.parse(source.textContent);
  const SVG = "http://www.w3.org/2000/svg";
  const COLUMN = 150;
  const ROW = 24;
  const TOP = 46;
  const LEFT = 92;
  const form = document.getElementById("seq-filters");
  const info = document.getElementById("seq-info");
  const rowsCount = data.t.length;
  let page = 0;

  function unique(values) {
    return Array.from(new Set(values));
  }

  function checkboxes(container, name, values) {
    for (const value of values) {
      const label = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.name = name;
      box.value = value;
      box.checked = true;
      label.append(box, " " + value);
      container.append(label);
    }
  }

  checkboxes(document.getElementById("seq-nodes"), "node", unique(data.nodes));
  checkboxes(document.getElementById("seq-layers"), "layer", unique(data.layers));
  const requestSelect = document.getElementById("seq-request");
  for (const request of data.requests) {
    const option = document.createElement("option");
    option.value = request;
    option.textContent = request;
    requestSelect.append(option);
  }

  function checked(name) {
    return new Set(
      Array.from(form.querySelectorAll(`input[name="${name}"]:checked`), (box) => box.value)
    );
  }

  function seconds(text) {
    const value = parseFloat(text);
    return Number.isFinite(value) ? value * 1e12 : null;
  }

  function chosenRows() {
    const nodes = checked("node");
    const layers = checked("layer");
    const request = requestSelect.value;
    const from = seconds(document.getElementById("seq-from").value);
    const to = seconds(document.getElementById("seq-to").value);
    const rows = [];
    for (let i = 0; i < rowsCount; i++) {
      const a = data.a[i];
      const b = data.b[i];
      const atNode = nodes.has(data.nodes[a]) || (b >= 0 && nodes.has(data.nodes[b]));
      if (!atNode || !layers.has(data.layers[a])) continue;
      if (request && data.request[i] !== request) continue;
      if (from !== null && data.t[i] < from) continue;
      if (to !== null && data.t[i] > to) continue;
      rows.push(i);
    }
    return rows;
  }

  function element(name, attributes, text) {
    const node = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes)) {
      node.setAttribute(key, value);
    }
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function cut(text, room) {
    const fits = Math.max(Math.floor(room / 6.2), 4);
    return text.length > fits ? text.slice(0, fits - 1) + "…" : text;
  }

  function draw() {
    const rows = chosenRows();
    const size = parseInt(document.getElementById("seq-page").value, 10) || 200;
    const pages = Math.max(Math.ceil(rows.length / size), 1);
    page = Math.min(page, pages - 1);
    const shown = rows.slice(page * size, (page + 1) * size);
    const used = unique(shown.flatMap((i) => (data.b[i] >= 0 ? [data.a[i], data.b[i]] : [data.a[i]])));
    used.sort((x, y) => x - y);
    const column = new Map(used.map((p, k) => [p, LEFT + COLUMN * k + COLUMN / 2]));
    // Room on the right for notes that run on past the last column.
    const width = LEFT + COLUMN * Math.max(used.length, 1) + 260;
    const height = TOP + ROW * shown.length + 20;
    const svg = element("svg", {
      class: "sequence",
      width: width,
      height: height,
      viewBox: `0 0 ${width} ${height}`,
    });
    svg.append(
      element("defs", {}),
      element("text", { class: "seq-time-head", x: 4, y: 16 }, "time (s)")
    );
    const marker = element("marker", {
      id: "seq-arrow",
      viewBox: "0 0 10 10",
      refX: 9,
      refY: 5,
      markerWidth: 7,
      markerHeight: 7,
      orient: "auto-start-reverse",
    });
    marker.append(element("path", { d: "M0,0L10,5L0,10z" }));
    svg.firstChild.append(marker);
    for (const p of used) {
      const x = column.get(p);
      svg.append(
        element("line", { class: "lifeline", x1: x, y1: 30, x2: x, y2: height - 10 }),
        element("rect", { class: "head", x: x - COLUMN / 2 + 6, y: 4, width: COLUMN - 12, height: 22, rx: 4 }),
        element("text", { class: "head-text", x: x, y: 19 }, data.participants[p])
      );
    }
    shown.forEach((i, k) => {
      const y = TOP + ROW * k;
      const label = `${data.kind[i]} ${data.text[i]}`.trim();
      const group = element("g", { class: `row ${data.type[i]} layer-${data.layers[data.a[i]]}` });
      const title = element("title", {});
      group.append(title, element("text", { class: "seq-time", x: 4, y: y + 4 }, data.at[i]));
      const xa = column.get(data.a[i]);
      if (data.type[i].startsWith("note")) {
        const xb = data.b[i] >= 0 ? column.get(data.b[i]) : xa;
        // One item a row: a note may run on to the right while it needs to.
        const left = Math.min(xa, xb) - COLUMN / 2 + 8;
        const room = width - left - 10;
        const span = Math.min(Math.max(Math.abs(xb - xa) + COLUMN - 16, label.length * 6.2 + 24), room);
        const arrow = { "note-up": "↑ ", "note-down": "↓ " }[data.type[i]] || "• ";
        title.textContent = `${data.participants[data.a[i]]}: ${arrow}${label} at ${data.at[i]} s`;
        group.append(
          element("rect", { class: "note-box", x: left, y: y - 9, width: span, height: 17, rx: 3 }),
          element("text", { class: "note-text", x: left + 4, y: y + 4 }, cut(arrow + label, span - 8))
        );
      } else {
        const xb = column.get(data.b[i]);
        const lost = data.type[i] === "lost";
        const when = lost ? `sent ${data.at[i]} s, ${data.sent[i]}` : `${data.sent[i]} → ${data.at[i]} s`;
        title.textContent = `${data.participants[data.a[i]]} → ${data.participants[data.b[i]]}: ${label} [${when}]`;
        const end = lost ? (xa + xb) / 2 : xb;
        const line = { class: "arrow", x1: xa, y1: y, x2: end, y2: y };
        if (!lost) line["marker-end"] = "url(#seq-arrow)";
        group.append(
          element("line", line),
          element("text", { class: "arrow-text", x: (xa + xb) / 2, y: y - 4 }, cut(label, Math.max(Math.abs(xb - xa) - 10, 2 * COLUMN)))
        );
        if (lost) {
          group.append(element("path", { class: "lost-x", d: `M${end - 5},${y - 5}L${end + 5},${y + 5}M${end + 5},${y - 5}L${end - 5},${y + 5}` }));
        }
      }
      svg.append(group);
    });
    chart.replaceChildren(svg);
    info.textContent =
      rows.length === 0
        ? "No row matches these filters."
        : `Rows ${page * size + 1}–${page * size + shown.length} of ${rows.length} chosen (${rowsCount} in this chart); page ${page + 1} of ${pages}.`;
    document.getElementById("seq-prev").disabled = page === 0;
    document.getElementById("seq-next").disabled = page >= pages - 1;
  }

  form.addEventListener("change", () => {
    page = 0;
    draw();
  });
  form.addEventListener("submit", (event) => event.preventDefault());
  document.getElementById("seq-prev").addEventListener("click", () => {
    page -= 1;
    draw();
  });
  document.getElementById("seq-next").addEventListener("click", () => {
    page += 1;
    draw();
  });
  draw();
})();
