/**
 * The page's one live connection (/api/stream): the latest cluster view, the metric points since
 * the page opened (after the history the server kept), and the newest events. Pages read it with
 * useLive(); a read-only dashboard (history) gets its snapshot once and no updates.
 */
import { useEffect, useState } from 'preact/hooks';
import type { ClusterView, EventView, MetricPoint, StreamMessage } from '../api-types.js';
import { getJson, openStream } from './api.js';

export interface LiveState {
  cluster?: ClusterView | undefined;
  points: MetricPoint[];
  events: EventView[];
  /** Messages drivers published (serve.status, data.progress), by topic: how many arrived, and the last. */
  published: Record<string, { count: number; data: unknown }>;
  error?: string | undefined;
}

const EVENTS_KEPT = 200;
const POINTS_KEPT = 1800;
let state: LiveState = { points: [], events: [], published: {} };
const listeners = new Set<() => void>();
let started = false;

function set(next: Partial<LiveState>): void {
  state = { ...state, ...next };
  for (const l of listeners) l();
}

function start(): void {
  if (started) return;
  started = true;
  Promise.all([getJson<MetricPoint[]>('/api/metrics/history'), getJson<EventView[]>('/api/events')]).then(([points, events]) => {
    set({ points: [...points, ...state.points].slice(-POINTS_KEPT), events: [...events, ...state.events].slice(-EVENTS_KEPT) });
  }, (err: Error) => set({ error: err.message }));
  openStream('/api/stream', {
    message: (data) => {
      const m = data as StreamMessage;
      if (m.type === 'cluster') set({ cluster: m.cluster, points: [...state.points, m.point].slice(-POINTS_KEPT), error: undefined });
      else if (m.event.event === 'published') {
        const topic = String(m.event.fields.topic);
        set({ published: { ...state.published, [topic]: { count: (state.published[topic]?.count ?? 0) + 1, data: m.event.fields.data } } });
      } else set({ events: [...state.events, m.event].slice(-EVENTS_KEPT) });
    },
  });
}

export function useLive(): LiveState {
  const [, force] = useState(0);
  useEffect(() => {
    start();
    const l = (): void => force((n) => n + 1);
    listeners.add(l);
    return () => void listeners.delete(l);
  }, []);
  return state;
}
