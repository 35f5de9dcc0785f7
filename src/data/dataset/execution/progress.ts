/**
 * The driver's progress line on stderr: per stage, partitions done/total, rows the stage produced and
 * its rows/s. A finished stage keeps its line; the running one is redrawn in place.
 */
export class Progress {
  private lastPrint = 0;
  private stageStarted = Date.now();
  private done = 0;
  private total = 0;
  private rows = 0;
  private stage = '';
  private open = false;

  constructor(private readonly enabled: boolean) {}

  startStage(label: string, total: number): void {
    if (this.open) this.endLine();
    this.stage = label;
    this.done = 0;
    this.total = total;
    this.rows = 0;
    this.stageStarted = Date.now();
    this.print(true);
  }

  partitionDone(rows?: number): void {
    this.done++;
    if (rows !== undefined) this.rows += rows;
    this.print(this.done === this.total);
  }

  /** The line as printed now. */
  line(): string {
    const secs = Math.max((Date.now() - this.stageStarted) / 1000, 1e-3);
    return `[shoal data] ${this.stage}: ${this.done}/${this.total} partitions, ${this.rows} rows, ${Math.round(this.rows / secs)} rows/s`;
  }

  private print(force: boolean): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (!force && now - this.lastPrint < 200) return;
    this.lastPrint = now;
    this.open = true;
    process.stderr.write(`\r${this.line()}   `);
  }

  private endLine(): void {
    if (this.enabled) process.stderr.write('\n');
    this.open = false;
  }

  finish(): void {
    if (this.open) this.endLine();
  }
}
