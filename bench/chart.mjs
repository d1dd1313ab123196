// The results as plain SVG, two charts side by side from the same run: throughput (one group
// per workload, one bar per driver, each bar the driver's throughput divided by the
// floor's) and, when a workload recorded it (mixed), the latency of its fast statements
// (one group per percentile, a logarithmic scale in ms).

const COLORS = { floor: '#dc2626',  pqnode: '#2563eb', pg: '#9ca3af', 'pg-native': '#d97706', postgres: '#059669', 'node-wire': '#7c3aed' };
const WIDTH = 960;
const LATENCY_WIDTH = 440;
const HEIGHT = 470;
const MARGIN = { top: 78, right: 20, bottom: 56, left: 56 };

function escapeXml(text) {
  return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function niceStep(max) {
  for (const step of [0.25, 0.5, 1, 2, 5, 10]) if (max / step <= 8) return step;
  return 20;
}

/** The SVG text of the charts. */
export function renderChart(results, drivers, labels) {
  const latency = latencyChart(results, drivers, labels);
  const width = WIDTH + (latency ? LATENCY_WIDTH : 0);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${HEIGHT}" viewBox="0 0 ${width} ${HEIGHT}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="${width}" height="${HEIGHT}" fill="#ffffff"/>`,
    throughputChart(results, drivers, labels),
    ...(latency ? [`<g transform="translate(${WIDTH} 0)">`, latency, '</g>'] : []),
    '</svg>',
    '',
  ].join('\n');
}

/** Throughput relative to the floor, per workload. */
function throughputChart(results, drivers, labels) {
  const rows = results.workloads;
  const ratios = rows.flatMap((row) => drivers.map((d) => row.drivers[d]?.ratio ?? 0));
  const step = niceStep(Math.max(1.2, ...ratios) * 1.1);
  const top = Math.ceil((Math.max(1.2, ...ratios) * 1.08) / step) * step;

  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const y = (ratio) => MARGIN.top + plotHeight - (ratio / top) * plotHeight;
  const groupWidth = plotWidth / rows.length;
  const barWidth = Math.min(26, (groupWidth * 0.8) / drivers.length);

  const out = [];
  out.push(
    `<text x="${MARGIN.left}" y="24" font-size="16" font-weight="bold" fill="#111827">Throughput relative to the same work in C on libpq (floor = 1.0); higher is better</text>`,
    `<text x="${MARGIN.left}" y="42" font-size="10" fill="#4b5563">${escapeXml(
      `${results.machine.cpu}, ${results.machine.cores} cores · Node.js ${results.machine.node} · PostgreSQL ${results.machine.postgresql} · libpq ${results.machine.libpq} · ${results.date.slice(0, 10)} · median of ${results.rounds}`,
    )}</text>`,
  );

  // legend
  let legendX = MARGIN.left;
  for (const driver of drivers) {
    out.push(
      `<rect x="${legendX}" y="54" width="12" height="12" fill="${COLORS[driver] ?? '#6b7280'}"/>`,
      `<text x="${legendX + 17}" y="64" font-size="12" fill="#111827">${escapeXml(labels[driver] ?? driver)}</text>`,
    );
    legendX += 30 + (labels[driver] ?? driver).length * 7;
  }

  // grid and axis
  for (let value = 0; value <= top + 1e-9; value += step) {
    const lineY = y(value).toFixed(1);
    out.push(
      `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${lineY}" y2="${lineY}" stroke="#e5e7eb"/>`,
      `<text x="${MARGIN.left - 6}" y="${(y(value) + 4).toFixed(1)}" font-size="11" text-anchor="end" fill="#4b5563">${value.toFixed(2).replace(/0$/, '')}×</text>`,
    );
  }

  rows.forEach((row, index) => {
    const groupX = MARGIN.left + index * groupWidth;
    const start = groupX + (groupWidth - barWidth * drivers.length) / 2;
    drivers.forEach((driver, slot) => {
      const cell = row.drivers[driver];
      const x = start + slot * barWidth;
      const centre = (x + barWidth / 2).toFixed(1);
      if (cell === undefined || cell.ratio === null || cell.skipped) {
        out.push(
          `<text x="${centre}" y="${(y(0) - 4).toFixed(1)}" font-size="9" text-anchor="middle" fill="#6b7280">n/a</text>`,
        );
        return;
      }
      const barTop = y(cell.ratio);
      out.push(
        `<rect x="${(x + 1).toFixed(1)}" y="${barTop.toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${(y(0) - barTop).toFixed(1)}" fill="${COLORS[driver] ?? '#6b7280'}"><title>${escapeXml(
          `${labels[driver]} ${row.workload}: ${cell.ratio.toFixed(2)}× the floor`,
        )}</title></rect>`,
        `<text x="${centre}" y="${(barTop - 3).toFixed(1)}" font-size="9" text-anchor="middle" fill="#111827">${cell.ratio.toFixed(2)}</text>`,
      );
    });
    out.push(
      `<text x="${(groupX + groupWidth / 2).toFixed(1)}" y="${HEIGHT - MARGIN.bottom + 18}" font-size="12" text-anchor="middle" fill="#111827">${escapeXml(row.workload)}</text>`,
      `<text x="${(groupX + groupWidth / 2).toFixed(1)}" y="${HEIGHT - MARGIN.bottom + 33}" font-size="10" text-anchor="middle" fill="#6b7280">${escapeXml(row.unit)}</text>`,
    );
  });

  // the floor itself
  const floorY = y(1).toFixed(1);
  out.push(
    `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${floorY}" y2="${floorY}" stroke="#dc2626" stroke-width="1.5" stroke-dasharray="6 4"/>`,
    `<text x="${WIDTH - MARGIN.right}" y="${(y(1) - 5).toFixed(1)}" font-size="11" text-anchor="end" fill="#dc2626">floor: C on libpq</text>`,
    `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y(0).toFixed(1)}" y2="${y(0).toFixed(1)}" stroke="#374151"/>`,
  );
  return out.join('\n');
}

/**
 * The latency of the fast statements of the first workload that recorded it, per
 * percentile, one bar per driver (the floor included) on a logarithmic scale; undefined when
 * no workload did.
 */
function latencyChart(results, drivers, labels) {
  const row = results.workloads.find((r) => Object.values(r.drivers).some((cell) => cell.latency));
  if (row === undefined) return undefined;
  const columns = ['floor', ...drivers].filter((driver) => row.drivers[driver]?.latency);
  const percentiles = [
    ['p50', 'p50'],
    ['p99', 'p99'],
    ['p999', 'p99.9'],
  ];
  const values = columns.flatMap((driver) => percentiles.map(([q]) => row.drivers[driver].latency[q])).filter((v) => v > 0);
  // decades of ms that hold every value
  const low = Math.floor(Math.log10(Math.min(...values)));
  const high = Math.max(low + 1, Math.ceil(Math.log10(Math.max(...values))));
  const margin = { ...MARGIN, left: 50, right: 16 };
  const plotWidth = LATENCY_WIDTH - margin.left - margin.right;
  const plotHeight = HEIGHT - margin.top - margin.bottom;
  const y = (ms) => margin.top + plotHeight - ((Math.log10(Math.max(ms, 10 ** low)) - low) / (high - low)) * plotHeight;
  const groupWidth = plotWidth / percentiles.length;
  const barWidth = Math.min(20, (groupWidth * 0.85) / columns.length);

  const out = [
    `<text x="${margin.left}" y="24" font-size="16" font-weight="bold" fill="#111827">${escapeXml(row.workload)}: latency of the fast statements</text>`,
    `<text x="${margin.left}" y="42" font-size="10" fill="#4b5563">ms, logarithmic scale; lower is better · median of ${results.rounds}</text>`,
  ];
  let legendX = margin.left;
  for (const driver of columns) {
    const label = labels[driver] ?? driver;
    out.push(
      `<rect x="${legendX}" y="54" width="10" height="10" fill="${COLORS[driver] ?? '#6b7280'}"/>`,
      `<text x="${legendX + 13}" y="63" font-size="10" fill="#111827">${escapeXml(label)}</text>`,
    );
    legendX += 22 + label.length * 5.5;
  }
  for (let decade = low; decade <= high; decade++) {
    const lineY = y(10 ** decade).toFixed(1);
    out.push(
      `<line x1="${margin.left}" x2="${LATENCY_WIDTH - margin.right}" y1="${lineY}" y2="${lineY}" stroke="#e5e7eb"/>`,
      `<text x="${margin.left - 6}" y="${(Number(lineY) + 4).toFixed(1)}" font-size="11" text-anchor="end" fill="#4b5563">${10 ** decade >= 1 ? 10 ** decade : (10 ** decade).toFixed(-decade)}</text>`,
    );
  }
  percentiles.forEach(([q, label], index) => {
    const groupX = margin.left + index * groupWidth;
    const start = groupX + (groupWidth - barWidth * columns.length) / 2;
    columns.forEach((driver, slot) => {
      const ms = row.drivers[driver].latency[q];
      if (ms == null) return;
      const x = start + slot * barWidth;
      const barTop = y(ms);
      out.push(
        `<rect x="${(x + 1).toFixed(1)}" y="${barTop.toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${(y(10 ** low) - barTop).toFixed(1)}" fill="${COLORS[driver] ?? '#6b7280'}"><title>${escapeXml(
          `${labels[driver] ?? driver} ${label}: ${ms.toFixed(2)} ms`,
        )}</title></rect>`,
        `<text x="${(x + barWidth / 2).toFixed(1)}" y="${(barTop - 3).toFixed(1)}" font-size="8" text-anchor="middle" fill="#111827">${ms < 10 ? ms.toFixed(1) : ms.toFixed(0)}</text>`,
      );
    });
    out.push(`<text x="${(groupX + groupWidth / 2).toFixed(1)}" y="${HEIGHT - margin.bottom + 18}" font-size="12" text-anchor="middle" fill="#111827">${label}</text>`);
  });
  out.push(`<line x1="${margin.left}" x2="${LATENCY_WIDTH - margin.right}" y1="${y(10 ** low).toFixed(1)}" y2="${y(10 ** low).toFixed(1)}" stroke="#374151"/>`);
  return out.join('\n');
}
