/**
 * Publishes a serve instance's status to the head every SERVE_STATUS_INTERVAL_MS (core `publish`,
 * topic `serve.status`): the dashboard's Serving page, which runs in the head while the instance
 * runs in a driver. What `shoal serve status` prints, cut to fit the publish size limit. A head
 * that refuses (an older one without `publish`, a closed session) stops the reporter after one
 * warning: serving never depends on it.
 */
import { publish } from '../core/index.js';
import type { ServeStatus } from './controller.js';
import { serveLog as log } from './log.js';

export const SERVE_STATUS_TOPIC = 'serve.status';
export const SERVE_STATUS_INTERVAL_MS = 2_000;
/** Replicas listed per deployment, decisions per message: bounds the message under 16 KiB. */
const REPLICAS_SENT = 40;
const DECISIONS_SENT = 10;

/** What one `serve.status` message carries. */
export interface ServeStatusMessage { at: number; url: string; status: ServeStatus }

export function trimStatus(s: ServeStatus): ServeStatus {
  return {
    deployments: s.deployments.map((d) => ({ ...d, replicas: d.replicas.slice(0, REPLICAS_SENT), batchSizes: d.batchSizes?.slice(-5) })),
    decisions: s.decisions.slice(-DECISIONS_SENT),
  };
}

/** Starts publishing; returns the stop function. */
export function reportServeStatus(instance: { url: string; controller: { status(): ServeStatus }; stopped(): Promise<void> }, intervalMs = SERVE_STATUS_INTERVAL_MS): () => void {
  let busy = false;
  const send = (): void => {
    if (busy) return;
    busy = true;
    const message: ServeStatusMessage = { at: Date.now(), url: instance.url, status: trimStatus(instance.controller.status()) };
    publish(SERVE_STATUS_TOPIC, message).then(() => {
      busy = false;
    }, (err: unknown) => {
      log.warn({ err }, 'serve status: the head did not take it; the dashboard will not show this instance');
      stop();
    });
  };
  const timer = setInterval(send, intervalMs);
  timer.unref();
  const stop = (): void => clearInterval(timer);
  send();
  void instance.stopped().then(stop);
  return stop;
}
