// The request page's charts, drawn by uPlot (served from tools/ui-assets): dates on the x axis
// (UTC), the measured series with its unit on the y axis, the policy's threshold as a dashed
// line, and the values under the cursor in each chart's legend.
(function () {
  const data = JSON.parse(document.getElementById("chart-data").textContent);
  window.stratgateCharts = {};
  const day = (t) => (t == null ? "—" : new Date(t * 1000).toISOString().slice(0, 10));
  const formats = {
    percent: (v) => (v == null ? "—" : (v * 100).toFixed(2) + " %"),
    number: (v) => (v == null ? "—" : Number(v.toPrecision(4)).toString()),
  };
  for (const c of data) {
    const el = document.getElementById("chart-" + c.id);
    const fmt = formats[c.unit];
    const series = [
      { label: "date (UTC)", value: (u, v) => day(v) },
      { label: c.y_label, stroke: "#1a73e8", width: 2, value: (u, v) => fmt(v) },
    ];
    const columns = [c.x, c.y];
    if (c.threshold !== null) {
      series.push({
        label: c.threshold_label, stroke: "#b3261e", dash: [6, 4], width: 1.5,
        points: { show: false }, value: (u, v) => fmt(v),
      });
      columns.push(c.x.map(() => c.threshold));
    }
    const opts = {
      width: Math.max(320, el.clientWidth || 520),
      height: 220,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"),
      scales: { x: { time: true } },
      series,
      axes: [
        { label: "date (UTC)", values: (u, ticks) => ticks.map(day) },
        { label: c.y_label, size: 72, values: (u, ticks) => ticks.map(fmt) },
      ],
      legend: { live: true },
    };
    el.textContent = "";
    window.stratgateCharts[c.id] = new uPlot(opts, columns, el);
  }
})();
