/**
 * Cron expressions, by croner (a well-kept, dependency-free cron library): five fields (minute hour
 * day month weekday) or six (seconds first), evaluated in UTC unless a time zone is given. Only the
 * parsing and the "next occurrence after t" computation are used — croner's own timers are not:
 * the trigger state (trigger-state.ts) decides when to look, on a clock it is given, so a schedule
 * can be tested on a fake clock.
 */
import { Cron } from 'croner';
import { PipelineTriggerError } from '../errors.js';

/** A parsed cron expression. */
export interface CronSchedule {
  readonly expression: string;
  readonly timezone: string;
  /** The first occurrence strictly after `afterMs` (epoch ms), or undefined when there is none. */
  nextAfter(afterMs: number): number | undefined;
}

/** Parses `expression` (in `timezone`, default UTC); throws {@link PipelineTriggerError} naming what croner refused. */
export function compileCron(expression: string, timezone = 'UTC', trigger = '(new)'): CronSchedule {
  if (typeof expression !== 'string' || expression.trim() === '') {
    throw new PipelineTriggerError(trigger, 'cron', 'cron', `must be a cron expression such as "0 3 * * *"; got ${JSON.stringify(expression)}`);
  }
  let cron: Cron;
  try {
    cron = new Cron(expression, { paused: true, timezone });
  } catch (err) {
    throw new PipelineTriggerError(trigger, 'cron', 'cron', `${JSON.stringify(expression)} is not a valid cron expression (${(err as Error).message})`, { cause: err });
  }
  return {
    expression,
    timezone,
    nextAfter(afterMs: number): number | undefined {
      return cron.nextRun(new Date(afterMs))?.getTime();
    },
  };
}
