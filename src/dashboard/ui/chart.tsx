/** A uPlot line chart of metric points: `series` picks the values, one line each. */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import type { MetricPoint } from '../api-types.js';

export interface ChartSeries { label: string; value: (p: MetricPoint, prev: MetricPoint | undefined) => number; stroke: string }

export function Chart({ title, points, series, id }: { title: string; points: MetricPoint[]; series: ChartSeries[]; id: string }) {
  const el = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  const data = (): uPlot.AlignedData => [
    points.map((p) => p.at / 1000),
    ...series.map((s) => points.map((p, i) => s.value(p, points[i - 1]))),
  ];
  useEffect(() => {
    if (!el.current) return undefined;
    plot.current = new uPlot({
      title, width: Math.max(320, el.current.clientWidth || 480), height: 180,
      series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.stroke, width: 2 }))],
      axes: [{}, { size: 60 }],
    }, data(), el.current);
    return () => plot.current?.destroy();
  }, []);
  useEffect(() => {
    plot.current?.setData(data());
  }, [points]);
  return <div class="chart" id={id} ref={el} />;
}

/** Per-second rate of a counter between two points. */
export const rate = (now: number, before: number | undefined, dtMs: number): number =>
  before === undefined || dtMs <= 0 ? 0 : Math.max(0, ((now - before) * 1000) / dtMs);
