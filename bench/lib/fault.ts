/**
 * One fault of the `faults` suite (`npm run bench -- faults`): a small module in bench/suites/faults/
 * exporting `fault: Fault`. The suite finds every module there, so engineers add faults without
 * touching a shared list. Each fault runs a real operation with the fault injected and reports what
 * ran, what was expected, what happened, and the counts the suite totals: wrong results, lost
 * writes, leaked files, seconds to recover (target 0 / 0 / 0).
 */
export interface FaultContext {
  /** A fresh folder for this fault (removed after it). */
  readonly dir: string;
  /** PostgreSQL URL when the server answers, else undefined (the fault then reports it skipped). */
  readonly postgresUrl: string | undefined;
  /** HEAD address and token of the running cluster (for faults that spawn their own driver). */
  readonly address: string;
  readonly token: string;
  log(msg: string): void;
}

export interface FaultOutcome {
  /** What ran, with the fault. */
  readonly ran: string;
  readonly expected: string;
  readonly happened: string;
  readonly wrongResults: number;
  readonly lostWrites: number;
  readonly leakedFiles: number;
  /** Time until a complete state was back (0 when nothing had to recover). */
  readonly recoverSeconds: number;
  readonly skipped?: boolean;
}

export interface Fault {
  /** Short, stable name: the row's metric. */
  readonly name: string;
  /** Which helper's area (rows of other areas sit in the same table). */
  readonly area: string;
  run(ctx: FaultContext): Promise<FaultOutcome>;
}
