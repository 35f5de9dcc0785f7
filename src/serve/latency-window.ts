/**
 * The latencies of a deployment's latest requests, for `shoal serve status` p50/p99: a fixed ring
 * of the newest `capacity`, so memory is bounded and reading percentiles is one sort of a typed
 * array. (A plain array of up to 10,000 sorted with a comparator, twice per status publish, stalled
 * the ingress's event loop for several milliseconds every 2 s: the serve bench's `tail` group.)
 */
export class LatencyWindow {
  private readonly ring: Float64Array;
  private next = 0;
  private filled = 0;

  constructor(readonly capacity = 4096) {
    this.ring = new Float64Array(capacity);
  }

  /** How many latencies the window holds (at most `capacity`). */
  get size(): number {
    return this.filled;
  }

  record(ms: number): void {
    this.ring[this.next] = ms;
    this.next = (this.next + 1) % this.capacity;
    if (this.filled < this.capacity) this.filled++;
  }

  /** The nearest-rank percentiles `ps` (0–100) of the window, in order; 0 each when it is empty. */
  percentiles(...ps: number[]): number[] {
    if (this.filled === 0) return ps.map(() => 0);
    const s = this.ring.slice(0, this.filled).sort();
    return ps.map((p) => s[Math.min(this.filled - 1, Math.floor((p / 100) * this.filled))]!);
  }

  clear(): void {
    this.next = 0;
    this.filled = 0;
  }
}
