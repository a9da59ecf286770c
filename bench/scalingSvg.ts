/** A dependency-free SVG plot of backfill time and peak RSS against the number of jobs (bench/scaling.svg). */

export interface ScalingPoint {
  jobs: number;
  /** Backfill wall time, seconds. */
  seconds: number;
  /** Peak RSS of the sync process, MiB. */
  rssMiB: number;
}

const W = 720;
const H = 320;
const PAD = { left: 70, right: 70, top: 40, bottom: 50 };

function scale(values: number[], lo: number, hi: number): (v: number) => number {
  const max = Math.max(...values, 1e-9);
  return (v) => hi - ((hi - lo) * v) / max;
}

export function renderScalingSvg(points: ScalingPoint[]): string {
  const pts = [...points].sort((a, b) => a.jobs - b.jobs);
  const xs = pts.map((p) => Math.log10(p.jobs));
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs);
  const x = (v: number) =>
    PAD.left + ((W - PAD.left - PAD.right) * (Math.log10(v) - xMin)) / (xMax - xMin || 1);
  const yT = scale(
    pts.map((p) => p.seconds),
    PAD.top,
    H - PAD.bottom,
  );
  const yR = scale(
    pts.map((p) => p.rssMiB),
    PAD.top,
    H - PAD.bottom,
  );
  const line = (y: (v: number) => number, get: (p: ScalingPoint) => number) =>
    pts.map((p) => `${x(p.jobs).toFixed(1)},${y(get(p)).toFixed(1)}`).join(' ');
  const dots = (y: (v: number) => number, get: (p: ScalingPoint) => number, color: string, unit: string) =>
    pts
      .map(
        (p) =>
          `<circle cx="${x(p.jobs).toFixed(1)}" cy="${y(get(p)).toFixed(1)}" r="4" fill="${color}"/>` +
          `<text x="${(x(p.jobs) + 6).toFixed(1)}" y="${(y(get(p)) - 6).toFixed(1)}" font-size="11" fill="${color}">${get(p).toFixed(get(p) < 10 ? 1 : 0)}${unit}</text>`,
      )
      .join('');
  const ticks = pts
    .map(
      (p) =>
        `<text x="${x(p.jobs).toFixed(1)}" y="${H - PAD.bottom + 18}" font-size="11" text-anchor="middle">${p.jobs >= 1e6 ? `${p.jobs / 1e6}M` : `${p.jobs / 1e3}k`}</text>`,
    )
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${W / 2}" y="22" font-size="14" text-anchor="middle">Cold backfill: time and peak RSS vs jobs (log scale)</text>
<line x1="${PAD.left}" y1="${H - PAD.bottom}" x2="${W - PAD.right}" y2="${H - PAD.bottom}" stroke="#333"/>
${ticks}
<text x="${W / 2}" y="${H - 12}" font-size="12" text-anchor="middle">jobs backfilled</text>
<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="${line(yT, (p) => p.seconds)}"/>
${dots(yT, (p) => p.seconds, '#1f77b4', ' s')}
<polyline fill="none" stroke="#d62728" stroke-width="2" stroke-dasharray="6 4" points="${line(yR, (p) => p.rssMiB)}"/>
${dots(yR, (p) => p.rssMiB, '#d62728', ' MiB')}
<text x="${PAD.left}" y="${PAD.top - 8}" font-size="12" fill="#1f77b4">— time (s)</text>
<text x="${W - PAD.right}" y="${PAD.top - 8}" font-size="12" fill="#d62728" text-anchor="end">- - peak RSS (MiB)</text>
</svg>
`;
}
