/**
 * The built-in task that summarizes one partition for drift and data quality (a mapBatches task:
 * its payload travels through the object store once per action). The summary module is imported
 * lazily, so this module stays free of side effects.
 */
import type { Table } from 'apache-arrow';
import { remote } from '../../core/index.js';
import type { SummaryPayload } from './column-summary.js';

/** Built-in task: the column summaries of one partition, as rows (chunk, column, summary JSON). */
export const summaryTask = remote(async function shoalMonitoringSummary(table: Table, payload: SummaryPayload): Promise<Table> {
  const { summarizeTable, summariesToTable } = await import('./column-summary.js');
  return summariesToTable(summarizeTable(table, payload));
});
