/** Charts with uPlot (bundled: the console works offline). Time axes are unix seconds, UTC. */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export const STATUS_COLORS: Record<string, string> = {
  validating: '#8a94a6',
  queued: '#d9a400',
  in_progress: '#2f80ed',
  completed: '#219653',
  failed: '#d64545',
  cancelled: '#6b6b6b',
  expired: '#8e44ad',
};
const PALETTE = ['#2f80ed', '#219653', '#d64545', '#d9a400', '#8e44ad', '#16a085', '#e67e22', '#6b6b6b'];
export const colorOf = (name: string, i: number): string =>
  STATUS_COLORS[name] ?? PALETTE[i % PALETTE.length] ?? '#333';

export interface Series {
  label: string;
  values: (number | null)[];
  color: string;
}

const charts = new Set<uPlot>();
/** Destroy the charts of the page being left. */
export function disposeCharts(): void {
  for (const c of charts) c.destroy();
  charts.clear();
}

function size(el: HTMLElement): { width: number; height: number } {
  return { width: Math.max(320, el.clientWidth || 600), height: 220 };
}

const axes = (unit: string): uPlot.Axis[] => [
  {},
  { label: unit, size: 60, values: (_u, vals) => vals.map((v) => (v === null ? '' : String(+v.toFixed(2)))) },
];

/** Bars stacked in series order (the first at the bottom); the legend shows each series' own value. */
export function stackedBars(el: HTMLElement, x: number[], series: Series[], unit: string): void {
  const cumulative: number[][] = [];
  let acc = x.map(() => 0);
  for (const s of series) {
    acc = acc.map((a, i) => a + (s.values[i] ?? 0));
    cumulative.push(acc);
  }
  // Drawn top-down: each stack total first, the smaller ones over it.
  const order = series.map((_, i) => i).reverse();
  const bars = uPlot.paths.bars?.({ size: [0.8, 40] });
  const opts: uPlot.Options = {
    ...size(el),
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
    series: [
      { label: 'time (UTC)' },
      ...order.map((i) => {
        const s = series[i] as Series;
        return {
          label: s.label,
          stroke: s.color,
          fill: s.color,
          width: 0,
          points: { show: false },
          ...(bars ? { paths: bars } : {}),
          value: (_u: uPlot, _v: number | null, _si: number, idx: number | null) =>
            idx === null ? '—' : String(s.values[idx] ?? 0),
        };
      }),
    ],
    axes: axes(unit),
    cursor: { drag: { x: false, y: false } },
  };
  charts.add(new uPlot(opts, [x, ...order.map((i) => cumulative[i] as number[])], el));
}

export function lines(el: HTMLElement, x: number[], series: Series[], unit: string): void {
  const opts: uPlot.Options = {
    ...size(el),
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
    series: [
      { label: 'time (UTC)' },
      ...series.map((s) => ({
        label: s.label,
        stroke: s.color,
        width: 2,
        spanGaps: true,
        points: { show: false },
      })),
    ],
    axes: axes(unit),
    cursor: { drag: { x: false, y: false } },
  };
  charts.add(new uPlot(opts, [x, ...series.map((s) => s.values)] as uPlot.AlignedData, el));
}
