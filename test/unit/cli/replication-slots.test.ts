/** The replication-slot section of `shoal status`: orphaned slots flagged with the WAL they hold and the command that drops them. */
import { describe, expect, it } from 'vitest';
import { renderReplicationSlots } from '../../../src/cli/replication-slots.js';

describe('renderReplicationSlots', () => {
  it('flags slots without a consumer and says how to drop them', () => {
    const text = renderReplicationSlots('127.0.0.1:5432/test', [
      { slot: 'ratings_live', plugin: 'pgoutput', active: true, retainedWalBytes: 1024 },
      { slot: 'crashed_job', plugin: 'pgoutput', active: false, retainedWalBytes: 5 * 1024 * 1024 },
    ]);
    expect(text.split('\n')[0]).toBe('Replication slots on 127.0.0.1:5432/test: 2');
    expect(text).toMatch(/ratings_live\s+pgoutput\s+active/);
    expect(text).toMatch(/crashed_job\s+pgoutput\s+ORPHANED \(no consumer\)\s+5(\.0)? MiB/);
    expect(text).toContain(`psql -c "SELECT pg_drop_replication_slot('crashed_job')"`);
    expect(text).not.toContain(`pg_drop_replication_slot('ratings_live')`);
  });

  it('says when there are none', () => {
    expect(renderReplicationSlots('h/db', [])).toBe('Replication slots on h/db: 0');
  });
});
