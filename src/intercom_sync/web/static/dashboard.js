// Draws each widget card from its JSON (/api/dashboards/{id}/widgets/{widget}), asking for
// the view in the page's own URL (range, comparison, filters), so a URL reproduces a view.
// Every string from the data is set with textContent, never as HTML. plotly.js reads a
// little HTML in labels (<b>, <br>, entities), so labels handed to it are entity-encoded
// first: a tag named "<script>" is drawn as those characters.
"use strict";

(function () {
  const dashboard = document.body.dataset.dashboard;
  const cards = Array.from(document.querySelectorAll("[data-widget]"));
  const plotConfig = { displayModeBar: false, responsive: true };
  const query = window.location.search;
  // plotly's default colours, so a series and its dotted partial part match
  const palette = ["#1f77b4", "#2ca02c", "#ff7f0e", "#d62728", "#9467bd", "#8c564b", "#e377c2"];
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

  function number(value, digits) {
    return value.toLocaleString("en-US", { maximumFractionDigits: digits });
  }

  // A duration given in minutes, in the unit that reads best: 45 s, 12 min, 3.4 h, 2.1 d.
  function duration(minutes) {
    const sign = minutes < 0 ? "−" : "";
    const m = Math.abs(minutes);
    if (m < 1) return sign + number(m * 60, 0) + " s";
    if (m < 60) return sign + number(m, m < 10 ? 1 : 0) + " min";
    if (m < 1440) return sign + number(m / 60, 1) + " h";
    return sign + number(m / 1440, 1) + " d";
  }

  function fmt(value, unit) {
    if (value === null || value === undefined) return "–";
    if (typeof value === "boolean") return value ? "yes" : "no";
    if (typeof value !== "number") return String(value);
    if (unit === "min") return duration(value);
    if (unit === "%") return number(value * 100, 1) + "%";
    const digits = Number.isInteger(value) ? 0 : Math.abs(value) < 10 ? 2 : 1;
    const text = number(value, digits);
    return unit ? text + " " + unit : text;
  }

  // The exact value, for hovering over a rounded one.
  function exact(value, unit) {
    if (typeof value !== "number") return "";
    if (unit === "min") return number(value, 2) + " minutes";
    if (unit === "%") return number(value * 100, 3) + "%";
    return number(value, 4) + (unit ? " " + unit : "");
  }

  function valueNode(tag, className, value, unit) {
    const node = el(tag, className, fmt(value, unit));
    const title = exact(value, unit);
    if (title) node.title = title;
    node.dataset.value = value === null || value === undefined ? "" : String(value);
    return node;
  }

  // Durations are charted in one unit chosen from the largest value.
  function displayUnit(values) {
    const top = Math.max(0, ...values.filter((v) => typeof v === "number").map(Math.abs));
    if (top >= 2 * 1440) return { name: "days", scale: 1 / 1440 };
    if (top >= 120) return { name: "hours", scale: 1 / 60 };
    return { name: "minutes", scale: 1 };
  }

  function layout(extra) {
    return Object.assign(
      {
        margin: { l: 60, r: 12, t: 8, b: 48 },
        height: 270,
        font: { family: "system-ui, sans-serif", size: 12 },
        paper_bgcolor: "rgba(0,0,0,0)",
        plot_bgcolor: "rgba(0,0,0,0)",
        showlegend: false,
        legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom" },
      },
      extra
    );
  }

  function chartBox(body) {
    const box = el("div", "chart");
    body.appendChild(box);
    return box;
  }

  function note(body, text) {
    body.appendChild(el("p", "note", text));
  }

  function compareLabel(data) {
    const mode = (data.view && data.view.compare) || "previous";
    return mode === "year" ? "vs same period last year" : "vs previous period";
  }

  function changeClass(delta, better) {
    if (!better || delta === 0) return "stat-change";
    const up = delta > 0;
    const good = better === "higher" ? up : !up;
    return "stat-change " + (good ? "good" : "bad");
  }

  function renderStat(body, data) {
    const row = el("div", "stats");
    for (const item of data.values) {
      const unit = item.unit !== undefined ? item.unit : data.unit;
      const stat = el("div", "stat");
      stat.appendChild(valueNode("span", "stat-value", item.value, unit));
      if (data.values.length > 1 || item.label !== "value") {
        stat.appendChild(el("span", "stat-label", item.label));
      }
      if (item.change && item.change.delta !== null) {
        const d = item.change.delta;
        const arrow = d > 0 ? "▲" : d < 0 ? "▼" : "•";
        const size = unit === "%" ? number(Math.abs(d) * 100, 1) + " pts" : fmt(Math.abs(d), unit);
        const text = arrow + " " + size + " " + compareLabel(data) + " (" + fmt(item.previous, unit) + ")";
        const change = el("span", changeClass(d, data.better), text);
        change.dataset.previous = item.previous === null || item.previous === undefined ? "" : String(item.previous);
        stat.appendChild(change);
      }
      row.appendChild(stat);
    }
    body.appendChild(row);
    if (data.empty) note(body, data.empty);
  }

  function empty(body, data) {
    body.appendChild(el("p", "empty", data.empty || "Nothing to show for this view."));
  }

  function renderTimeseries(body, data) {
    if (data.empty || !data.x.length) return empty(body, data);
    const partial = data.partial || data.x.map(() => false);
    const near = (i) => partial[i] || partial[i - 1] || partial[i + 1];
    const isDuration = data.unit === "min";
    const all = data.series.flatMap((s) => s.y);
    const unit = isDuration ? displayUnit(all) : { name: "", scale: 1 };
    const step = data.bucket === "week" ? "week" : data.bucket === "month" ? "month" : data.bucket === "hour" ? "hour" : "day";
    const traces = [];
    data.series.forEach((s, n) => {
      const scaled = s.y.map((v) => (typeof v === "number" ? v * unit.scale : v));
      const hover = s.y.map((v, i) => fmt(v, data.unit) + (partial[i] ? " (partial " + step + ")" : ""));
      const colour = palette[n % palette.length];
      const base = {
        x: data.x,
        name: plotText(s.name),
        type: "scatter",
        legendgroup: "s" + n,
        line: { color: colour },
        marker: { color: colour },
        text: hover.map(plotText),
        hovertemplate: "%{x|%Y-%m-%d %H:%M}: %{text}<extra>" + plotText(s.name) + "</extra>",
      };
      traces.push(Object.assign({}, base, {
        y: scaled.map((v, i) => (partial[i] ? null : v)),
        mode: data.x.length > 40 ? "lines" : "lines+markers",
      }));
      if (partial.some(Boolean)) {
        traces.push(Object.assign({}, base, {
          y: scaled.map((v, i) => (near(i) ? v : null)),
          mode: "lines+markers",
          line: { dash: "dot", color: colour },
          marker: { symbol: "circle-open", size: 8, color: colour },
          showlegend: false,
          customdata: partial,
        }));
      }
    });
    const yTitle = (data.axis || "") + (isDuration ? " (" + unit.name + ")" : "");
    const box = chartBox(body);
    box.dataset.scale = String(unit.scale);
    const legend = data.series.length > 1;
    Plotly.newPlot(
      box,
      traces,
      layout({
        showlegend: legend,
        margin: { l: 60, r: 12, t: legend ? 28 : 8, b: 48 },
        xaxis: { type: "date", title: { text: step + " (UTC)" } },
        yaxis: Object.assign(
          { title: { text: plotText(yTitle) }, rangemode: isDuration ? "normal" : "tozero" },
          isDuration ? {} : countTicks(all)
        ),
      }),
      plotConfig
    );
    if (partial.some(Boolean)) note(body, "Dotted: a " + step + " the view covers only in part (the figure so far).");
  }

  // Whole-number ticks for small counts (no "0.5 tickets").
  function countTicks(values) {
    const numbers = values.filter((v) => typeof v === "number");
    const top = Math.max(0, ...numbers);
    return numbers.every(Number.isInteger) && top <= 8 ? { dtick: 1, tick0: 0 } : {};
  }

  function renderDistribution(body, data) {
    if (!data.items.length) return empty(body, data);
    const items = data.items.slice().reverse();
    const trace = {
      type: "bar",
      orientation: "h",
      x: items.map((i) => i.value),
      y: items.map((i) => plotText(i.label)),
      hovertemplate: "%{y}: %{x}<extra></extra>",
    };
    const height = Math.max(160, 28 * items.length + 70);
    Plotly.newPlot(
      chartBox(body),
      [trace],
      layout({
        height: height,
        yaxis: { type: "category", automargin: true },
        xaxis: Object.assign(
          { title: { text: plotText(data.axis || "conversations") }, rangemode: "tozero" },
          countTicks(trace.x)
        ),
      }),
      plotConfig
    );
  }

  function renderTable(body, data) {
    if (!data.rows.length) return empty(body, data);
    if (data.columns.length > 6) body.closest(".card").classList.add("card-wide");
    const units = data.units || [];
    const scroll = el("div", "table-scroll");
    const table = el("table", "data");
    const head = table.createTHead().insertRow();
    for (const column of data.columns) head.appendChild(el("th", null, column));
    const rows = table.createTBody();
    data.rows.forEach((values, r) => {
      const tr = rows.insertRow();
      values.forEach((v, i) => {
        const td = valueNode("td", i > 0 && typeof v === "number" ? "num" : null, v, i > 0 ? units[i] || "" : "");
        const link = i === 0 && data.links ? data.links[r] : null;
        if (link) {
          const a = el("a", null, td.textContent);
          a.href = link;
          a.target = "_blank";
          a.rel = "noopener noreferrer";
          td.replaceChildren(a);
        }
        tr.appendChild(td);
      });
    });
    scroll.appendChild(table);
    body.appendChild(scroll);
  }

  const renderers = {
    stat: renderStat,
    timeseries: renderTimeseries,
    distribution: renderDistribution,
    table: renderTable,
  };

  function failed(card, body, message, retry) {
    const p = el("p", "error", message);
    if (retry) {
      const again = el("button", null, "Retry");
      again.type = "button";
      again.addEventListener("click", () => load(card));
      p.appendChild(again);
    }
    body.replaceChildren(p);
    card.dataset.state = "error";
  }

  async function load(card) {
    const url =
      "/api/dashboards/" + encodeURIComponent(dashboard) + "/widgets/" + encodeURIComponent(card.dataset.widget) + query;
    const body = card.querySelector(".body");
    card.dataset.state = "loading";
    let response;
    let data;
    try {
      response = await fetch(url, { credentials: "same-origin", headers: { accept: "application/json" } });
      data = await response.json();
    } catch (error) {
      return failed(card, body, "The dashboard server did not answer (is it still running?).", true);
    }
    if (!response.ok) {
      return failed(card, body, data.error || "The server answered " + response.status + ".", response.status >= 500);
    }
    try {
      body.replaceChildren();
      renderers[data.kind](body, data);
      if (data.not_filtered_by && data.not_filtered_by.length) {
        note(body, "Not filtered by " + data.not_filtered_by.join(", ") + ": they do not apply here.");
      }
      card.dataset.state = "ready";
    } catch (error) {
      failed(card, body, "This widget's data could not be drawn: " + error.message, true);
    }
  }

  function wireControls() {
    const form = document.querySelector("form.controls");
    if (!form) return;
    const dates = Array.from(form.querySelectorAll(".custom-range input"));
    const range = form.querySelector("select[name=range]");
    form.querySelectorAll("[data-autosubmit]").forEach((select) => {
      select.addEventListener("change", () => {
        if (select === range) {
          const custom = range.value === "custom";
          dates.forEach((input) => (input.disabled = !custom));
          if (custom) return dates[0] && dates[0].focus();
        }
        form.requestSubmit();
      });
    });
    form.addEventListener("submit", () => {
      // Leave empty choices out of the URL, so it says only what was chosen.
      form.querySelectorAll("select, input").forEach((field) => {
        if (!field.value) field.disabled = true;
      });
    });
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

  wireControls();
  cards.forEach(load);
  if (cards.length) {
    refreshFreshness();
    setInterval(refreshFreshness, 60000);
  }
})();
