/**
 * Dynamic batching: requests arriving within `batchWaitMs` (up to `maxBatchSize`) are coalesced into
 * one call of the replica's batch method with an array — scoring many users is one matrix product.
 * A full batch leaves at once; the first request of a batch waits at most `batchWaitMs`. Batches,
 * not requests, take replica slots and queue places, so memory stays bounded by the queue's bound.
 */
export class Batcher<T, R> {
  private pending: Array<{ item: T; resolve: (r: R) => void; reject: (e: unknown) => void }> = [];
  private timer: NodeJS.Timeout | undefined;
  /** Sizes of the batches sent (the latest 1,000), for tests and status. */
  readonly sizes: number[] = [];

  constructor(
    readonly maxBatchSize: number,
    readonly batchWaitMs: number,
    private readonly run: (items: T[]) => Promise<R[]>,
  ) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.pending.length >= this.maxBatchSize) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.batchWaitMs);
    });
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending.splice(0, this.maxBatchSize);
    if (this.pending.length) this.timer = setTimeout(() => this.flush(), this.batchWaitMs);
    if (!batch.length) return;
    this.sizes.push(batch.length);
    if (this.sizes.length > 1000) this.sizes.shift();
    this.run(batch.map((b) => b.item)).then(
      (results) => {
        batch.forEach((b, i) => b.resolve(results[i] as R));
      },
      (err: unknown) => {
        for (const b of batch) b.reject(err);
      },
    );
  }
}
