/**
 * Calendar features of a date, timestamp or ISO-date string column (UTC): day of week (1 = Monday …
 * 7 = Sunday, ISO), month (1–12), meteorological season (0 winter, 1 spring, 2 summer, 3 autumn;
 * northern hemisphere), weekend and US-federal-holiday flags (0/1), and days since a reference date.
 * Null or unparsable inputs give null features.
 */
import type * as arrow from 'apache-arrow';
import type { Dataset } from '../data/index.js';
import { float64Vector, readMillis, setColumns, vectorOf } from './columns.js';
import { cNumber, cString, cStrings } from './config.js';
import { invalidOption } from './errors.js';
import { FeatureModel, registerFeatureModel, type Featurizer, type StageConfig } from './featurizer.js';
import { checkColumns } from './fit-stats.js';
import { isUsFederalHoliday } from './holidays.js';

export type TimeFeature = 'dayOfWeek' | 'month' | 'season' | 'isWeekend' | 'isHoliday' | 'daysSince';
export const TIME_FEATURES: readonly TimeFeature[] = ['dayOfWeek', 'month', 'season', 'isWeekend', 'isHoliday', 'daysSince'];
const DAY_MS = 86_400_000;

export interface TimeFeaturesOptions {
  readonly inputCol: string;
  /** Output columns are `${prefix}${feature}`. @default `${inputCol}_` */
  readonly prefix?: string;
  /** @default all of TIME_FEATURES */
  readonly features?: readonly TimeFeature[];
  /** Reference for daysSince (ISO date or epoch ms). @default '1970-01-01' */
  readonly referenceDate?: string | number;
}

export class TimeFeaturesModel extends FeatureModel {
  readonly className = 'TimeFeatures';
  constructor(
    readonly inputCol: string,
    readonly prefix: string,
    readonly features: readonly TimeFeature[],
    readonly referenceMs: number,
  ) {
    super();
  }
  transformTable(table: arrow.Table): arrow.Table {
    const ms = readMillis(vectorOf(table, this.inputCol));
    const n = ms.length;
    const valid = Uint8Array.from(ms, (x) => (Number.isNaN(x) ? 0 : 1));
    return setColumns(
      table,
      this.features.map((f) => {
        const out = new Float64Array(n);
        for (let i = 0; i < n; i++) {
          if (valid[i] === 0) continue;
          const d = new Date(ms[i]!);
          const day = Math.floor(ms[i]! / DAY_MS);
          const dow = ((d.getUTCDay() + 6) % 7) + 1;
          const month = d.getUTCMonth() + 1;
          out[i] =
            f === 'dayOfWeek' ? dow
            : f === 'month' ? month
            : f === 'season' ? Math.floor((month % 12) / 3)
            : f === 'isWeekend' ? (dow >= 6 ? 1 : 0)
            : f === 'isHoliday' ? (isUsFederalHoliday(day) ? 1 : 0)
            : Math.floor((ms[i]! - this.referenceMs) / DAY_MS);
        }
        return [`${this.prefix}${f}`, float64Vector(out, valid)] as const;
      }),
    );
  }
  getConfig(): StageConfig {
    return { inputCol: this.inputCol, prefix: this.prefix, features: this.features, referenceMs: this.referenceMs };
  }
}
registerFeatureModel('TimeFeatures', (c) => new TimeFeaturesModel(cString(c, 'inputCol'), cString(c, 'prefix'), cStrings(c, 'features') as TimeFeature[], cNumber(c, 'referenceMs')));

export class TimeFeatures implements Featurizer<TimeFeaturesModel> {
  static readonly className = 'TimeFeatures';
  readonly className = TimeFeatures.className;
  readonly model: TimeFeaturesModel;
  constructor(o: TimeFeaturesOptions) {
    const features = [...(o.features ?? TIME_FEATURES)];
    for (const f of features) if (!TIME_FEATURES.includes(f)) throw invalidOption('options.features', `must only contain ${TIME_FEATURES.join(', ')}; got ${String(f)}`, { stage: this.className });
    const ref = typeof o.referenceDate === 'number' ? o.referenceDate : Date.parse(`${o.referenceDate ?? '1970-01-01'}T00:00:00Z`);
    if (Number.isNaN(ref)) throw invalidOption('options.referenceDate', 'must be an ISO date (YYYY-MM-DD) or epoch milliseconds', { stage: this.className });
    this.model = new TimeFeaturesModel(o.inputCol, o.prefix ?? `${o.inputCol}_`, features, ref);
  }
  async fit(dataset: Dataset): Promise<TimeFeaturesModel> {
    await checkColumns(dataset, [this.model.inputCol], this.className, ['date', 'timestamp', 'string']);
    return this.model;
  }
}
