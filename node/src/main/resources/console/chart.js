// A small SVG bar chart: one series of numbers per minute, drawn without any library.
const NS = "http://www.w3.org/2000/svg";

function el(name, attrs, text) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/**
 * Returns an <svg> of bars for `values` (oldest first), labelled with `title` and the largest
 * value formatted by `format`. `starts` are the minutes' start times, for the tooltips.
 */
export function barChart(title, values, starts, format) {
  const w = 400, h = 150, top = 22, bottom = 18, left = 4;
  const svg = el("svg", { viewBox: `0 0 ${w} ${h}`, class: "chart", role: "img", "aria-label": title });
  const max = Math.max(0, ...values);
  svg.appendChild(el("text", { x: left, y: 14, class: "chart-title" }, `${title} per minute (max ${format(max)})`));
  const plotH = h - top - bottom;
  const bw = (w - left * 2) / Math.max(1, values.length);
  values.forEach((v, i) => {
    const bh = max > 0 ? Math.max(v > 0 ? 1 : 0, (v / max) * plotH) : 0;
    const x = left + i * bw;
    const bar = el("rect", { x: x + 0.5, y: top + plotH - bh, width: Math.max(1, bw - 1), height: bh, class: "bar" });
    bar.appendChild(el("title", {}, `${new Date(starts[i]).toISOString().slice(11, 16)} UTC: ${format(v)}`));
    svg.appendChild(bar);
  });
  svg.appendChild(el("line", { x1: left, y1: top + plotH, x2: w - left, y2: top + plotH, class: "axis" }));
  if (starts.length) {
    const label = (i) => new Date(starts[i]).toISOString().slice(11, 16);
    svg.appendChild(el("text", { x: left, y: h - 4, class: "chart-label" }, label(0)));
    svg.appendChild(el("text", { x: w - left, y: h - 4, class: "chart-label end" }, label(starts.length - 1) + " UTC"));
  }
  return svg;
}
