/**
 * A uPlot line chart of any series over a shared x axis (time in ms, or steps): the charts of
 * runs' metrics and of serving's rps and latency. (chart.tsx draws the cluster's MetricPoints.)
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export interface LineSeries { label: string; stroke: string; values: Array<number | null> }

export const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#7c3aed', '#ea580c', '#0891b2', '#ca8a04', '#db2777'];

export function LineChart({ id, title, x, series, xIsTime = true }: { id: string; title: string; x: number[]; series: LineSeries[]; xIsTime?: boolean }) {
  const el = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  const data = (): uPlot.AlignedData => [xIsTime ? x.map((t) => t / 1000) : x, ...series.map((s) => s.values)];
  const shape = series.map((s) => s.label).join('\u0000');
  useEffect(() => {
    if (!el.current) return undefined;
    plot.current = new uPlot({
      title, width: Math.max(320, el.current.clientWidth || 480), height: 200,
      scales: { x: { time: xIsTime } },
      series: [{ label: xIsTime ? 'time' : 'step' }, ...series.map((s) => ({ label: s.label, stroke: s.stroke, width: 2, spanGaps: true }))],
      axes: [{}, { size: 60 }],
    }, data(), el.current);
    return () => plot.current?.destroy();
  }, [shape]);
  useEffect(() => {
    plot.current?.setData(data());
  }, [x, series]);
  return <div class="chart" id={id} ref={el} />;
}
