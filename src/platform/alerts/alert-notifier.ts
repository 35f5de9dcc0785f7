/**
 * Raising an alert: it is recorded in the platform store first (so `shoal monitor status` and the
 * Prometheus counter see it whatever happens next), then sent to the notifier — a webhook POST of
 * the alert as JSON (Slack/Alertmanager-style receivers, or anything that takes JSON). A receiver
 * that is down or answers an error does not fail the caller: the outcome is kept on the alert row
 * (`notified`), and said once on stderr.
 */
import type { Store } from '../../store/index.js';
import { MonitorRecords, type AlertRecord, type AlertSeverity } from '../monitoring/monitor-records.js';
import { optionRules } from '../../core/index.js';

/** Where alerts go beyond the store. */
export interface AlertNotifier {
  /** Sends `alert`; resolves with what happened (`webhook http://... 200`), rejects when it could not be delivered. */
  notify(alert: AlertRecord): Promise<string>;
}

export interface WebhookOptions {
  /** Extra request headers (an `authorization` for the receiver). */
  headers?: Record<string, string>;
  /** Give up after this long. @default 5000 */
  timeoutMs?: number;
}

/** The JSON body a webhook receives. */
export interface AlertWebhookBody {
  source: 'shoal';
  alert: { seq: number; source: string; kind: string; severity: AlertSeverity; message: string; at: string; evidence: unknown };
}

/** A notifier that POSTs each alert as JSON ({@link AlertWebhookBody}) to `url`; any 2xx is delivered. */
export function webhookNotifier(url: string, options: WebhookOptions = {}): AlertNotifier {
  const r = optionRules('webhookNotifier()');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return r.fail('url', 'must be an http(s) URL', url);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') r.fail('url', 'must be an http(s) URL', url);
  const o = r.object(options);
  r.knownKeys(o, ['headers', 'timeoutMs']);
  const timeoutMs = r.int('timeoutMs', o.timeoutMs, 5000, { min: 1 });
  return {
    async notify(alert: AlertRecord): Promise<string> {
      const body: AlertWebhookBody = {
        source: 'shoal',
        alert: { seq: alert.seq, source: alert.source, kind: alert.kind, severity: alert.severity, message: alert.message, at: new Date(alert.at).toISOString(), evidence: alert.evidence },
      };
      const res = await fetch(url, {
        method: 'POST', headers: { 'content-type': 'application/json', ...(o.headers ?? {}) }, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (!res.ok) throw new Error(`webhook ${url} answered ${res.status}`);
      return `webhook ${url} ${res.status}`;
    },
  };
}

/** What {@link raiseAlert} takes. */
export interface AlertInput {
  source: string;
  kind: string;
  severity?: AlertSeverity;
  message: string;
  evidence?: unknown;
  /** @default Date.now() */
  at?: number;
}

/** Records the alert in the store, then notifies; resolves with the stored alert (its `notified` says how the notification went). */
export async function raiseAlert(store: Store, input: AlertInput, notifier?: AlertNotifier): Promise<AlertRecord> {
  const records = new MonitorRecords(store);
  const alert = await records.addAlert({
    source: input.source, kind: input.kind, severity: input.severity ?? 'warning', message: input.message, at: input.at ?? Date.now(), evidence: input.evidence ?? null,
  });
  if (!notifier) return alert;
  let notified: string;
  try {
    notified = await notifier.notify(alert);
  } catch (err) {
    notified = `failed: ${(err as Error).message}`;
    process.stderr.write(`shoal monitoring: alert ${alert.seq} (${alert.kind} from ${alert.source}) was recorded but not delivered: ${(err as Error).message}\n`);
  }
  await records.setNotified(alert.seq, notified);
  return { ...alert, notified };
}
