// Draws each widget card from its JSON (/api/dashboards/{id}/widgets/{widget}).
// Every string from the data is set with textContent, never as HTML. plotly.js reads a
// little HTML in labels (<b>, <br>, entities), so labels handed to it are entity-encoded
// first: a tag named "<script>" is drawn as those characters.
"use strict";

(function () {
  const dashboard = document.body.dataset.dashboard;
  const cards = Array.from(document.querySelectorAll("[data-widget]"));
  const plotConfig = { displayModeBar: false, responsive: true };
  let lastSync = null;

  function plotText(value) {
    return String(value).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function fmt(value, unit) {
    if (value === null || value === undefined) return "–";
    if (typeof value === "boolean") return value ? "yes" : "no";
    if (typeof value !== "number") return String(value);
    if (unit === "%") return (value * 100).toFixed(1) + "%";
    const digits = Number.isInteger(value) ? 0 : Math.abs(value) < 10 ? 2 : 1;
    const text = value.toLocaleString("en-US", { maximumFractionDigits: digits });
    return unit ? text + " " + unit : text;
  }

  function layout(extra) {
    return Object.assign(
      {
        margin: { l: 48, r: 12, t: 8, b: 36 },
        height: 260,
        font: { family: "system-ui, sans-serif", size: 12 },
        paper_bgcolor: "rgba(0,0,0,0)",
        plot_bgcolor: "rgba(0,0,0,0)",
        showlegend: false,
      },
      extra
    );
  }

  function chartBox(body) {
    const box = el("div", "chart");
    body.appendChild(box);
    return box;
  }

  function renderStat(body, data) {
    const row = el("div", "stats");
    for (const item of data.values) {
      const stat = el("div", "stat");
      stat.appendChild(el("span", "stat-value", fmt(item.value, data.unit)));
      if (data.values.length > 1 || item.label !== "value") {
        stat.appendChild(el("span", "stat-label", item.label));
      }
      if (item.change && item.change.delta !== null) {
        const d = item.change.delta;
        const arrow = d > 0 ? "▲" : d < 0 ? "▼" : "•";
        const text = arrow + " " + fmt(Math.abs(d), data.unit) + " vs previous " + fmt(item.previous, data.unit);
        stat.appendChild(el("span", "stat-change", text));
      }
      row.appendChild(stat);
    }
    body.appendChild(row);
  }

  function renderTimeseries(body, data) {
    if (!data.x.length) return empty(body);
    const traces = data.series.map((s) => ({
      x: data.x,
      y: s.y,
      name: plotText(s.name),
      type: "scatter",
      mode: data.x.length > 40 ? "lines" : "lines+markers",
      hovertemplate: "%{x|%Y-%m-%d %H:%M}: %{y}<extra>" + plotText(s.name) + "</extra>",
    }));
    Plotly.newPlot(chartBox(body), traces, layout({ showlegend: traces.length > 1, xaxis: { type: "date" } }), plotConfig);
  }

  function renderDistribution(body, data) {
    if (!data.items.length) return empty(body);
    const items = data.items.slice().reverse();
    const trace = {
      type: "bar",
      orientation: "h",
      x: items.map((i) => i.value),
      y: items.map((i) => plotText(i.label)),
      hovertemplate: "%{y}: %{x}<extra></extra>",
    };
    const height = Math.max(160, 28 * items.length + 50);
    Plotly.newPlot(chartBox(body), [trace], layout({ height: height, yaxis: { type: "category", automargin: true } }), plotConfig);
  }

  function renderTable(body, data) {
    if (!data.rows.length) return empty(body);
    const table = el("table", "data");
    const head = table.createTHead().insertRow();
    for (const column of data.columns) head.appendChild(el("th", null, column));
    const rows = table.createTBody();
    for (const values of data.rows) {
      const tr = rows.insertRow();
      values.forEach((v, i) => tr.appendChild(el("td", i > 0 && typeof v === "number" ? "num" : null, fmt(v, ""))));
    }
    body.appendChild(table);
  }

  function empty(body) {
    body.appendChild(el("p", "empty", "No data in this window."));
  }

  const renderers = {
    stat: renderStat,
    timeseries: renderTimeseries,
    distribution: renderDistribution,
    table: renderTable,
  };

  async function load(card) {
    const url =
      "/api/dashboards/" + encodeURIComponent(dashboard) + "/widgets/" + encodeURIComponent(card.dataset.widget);
    const body = card.querySelector(".body");
    card.dataset.state = "loading";
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { accept: "application/json" } });
      const data = await response.json();
      if (!response.ok) throw new Error(data.error || response.statusText);
      body.replaceChildren();
      renderers[data.kind](body, data);
      card.dataset.state = "ready";
    } catch (error) {
      body.replaceChildren(el("p", "error", "Could not load: " + error.message));
      card.dataset.state = "error";
    }
  }

  async function refreshFreshness() {
    try {
      const response = await fetch("/api/sync/state", { credentials: "same-origin" });
      if (!response.ok) return;
      const state = await response.json();
      document.getElementById("freshness").textContent = state.summary;
      const finished = state.background && state.background.last_finished;
      if (lastSync !== null && finished && finished !== lastSync) cards.forEach(load);
      lastSync = finished || lastSync || "";
    } catch (error) {
      // the next poll will try again
    }
  }

  cards.forEach(load);
  refreshFreshness();
  setInterval(refreshFreshness, 60000);
})();
