/**
 * The head's gate for what drivers publish: data over PUBLISH_MAX_BYTES or not JSON is a typed
 * error naming the topic; past PUBLISH_MAX_PER_SECOND a topic's messages are dropped, other topics
 * unaffected, and the rate comes back as time passes (a fake clock: no timing in the test).
 */
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../../../src/core/errors.js';
import { PUBLISH_MAX_BYTES, PUBLISH_MAX_PER_SECOND, PublishGate } from '../../../../src/core/head/published.js';

describe('PublishGate', () => {
  it('refuses data over the size limit, or not JSON, with the topic and the size in the message', () => {
    const gate = new PublishGate(() => 0);
    expect(() => gate.admit('serve.status', 'x'.repeat(PUBLISH_MAX_BYTES))).toThrow(InvalidOptionError);
    expect(() => gate.admit('serve.status', 'x'.repeat(PUBLISH_MAX_BYTES))).toThrow(/publish 'serve.status': data is 16386 bytes of JSON, over the limit of 16384/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => gate.admit('data.progress', cyclic)).toThrow(/publish 'data.progress': data is not JSON/);
    expect(gate.admit('serve.status', { ok: true })).toBe(true);
  });

  it('drops a topic past its rate, leaves other topics alone, and admits again as time passes', () => {
    let now = 1_000;
    const gate = new PublishGate(() => now);
    const admitted = Array.from({ length: PUBLISH_MAX_PER_SECOND + 5 }, () => gate.admit('data.progress', { n: 1 })).filter(Boolean).length;
    expect(admitted).toBe(PUBLISH_MAX_PER_SECOND);
    expect(gate.admit('data.progress', {})).toBe(false);
    expect(gate.admit('serve.status', {})).toBe(true);
    now += 100; // 0.1 s refills 2 messages at 20/s
    expect([gate.admit('data.progress', {}), gate.admit('data.progress', {}), gate.admit('data.progress', {})]).toEqual([true, true, false]);
  });
});
