/** The driver's progress line on stderr: stage, partitions done/total, rows, rows/s. */
export class Progress {
  private readonly started = Date.now();
  private lastPrint = 0;
  private done = 0;
  private total = 0;
  private rows = 0;
  private stage = '';

  constructor(private readonly enabled: boolean) {}

  startStage(label: string, total: number): void {
    this.stage = label;
    this.done = 0;
    this.total = total;
    this.print(true);
  }

  partitionDone(rows?: number): void {
    this.done++;
    if (rows !== undefined) this.rows += rows;
    this.print(this.done === this.total);
  }

  addRows(rows: number): void {
    this.rows += rows;
  }

  private print(force: boolean): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (!force && now - this.lastPrint < 200) return;
    this.lastPrint = now;
    const secs = Math.max((now - this.started) / 1000, 1e-3);
    process.stderr.write(`\r[shoal data] ${this.stage}: ${this.done}/${this.total} partitions, ${this.rows} rows, ${Math.round(this.rows / secs)} rows/s   `);
  }

  finish(): void {
    if (this.enabled) process.stderr.write('\n');
  }
}
