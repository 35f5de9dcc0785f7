/**
 * The replication-slot section of `shoal status`: a logical replication slot whose consumer is gone
 * (a crashed streaming job) makes PostgreSQL keep WAL forever, so status lists the warehouse's
 * slots and flags the inactive ones with the WAL they hold back and how to drop them.
 */
import { listReplicationSlots } from '../data/index.js';
import { formatBytes, table } from './format.js';

export interface SlotRow {
  slot: string;
  plugin: string | null;
  active: boolean;
  retainedWalBytes: number | null;
}

/** The section's text for `slots` of the server at `where` (shown without credentials). */
export function renderReplicationSlots(where: string, slots: readonly SlotRow[]): string {
  const out = [`Replication slots on ${where}: ${slots.length}`];
  if (slots.length === 0) return out.join('\n');
  out.push(table([
    ['SLOT', 'PLUGIN', 'STATE', 'WAL HELD'],
    ...slots.map((s) => [s.slot, s.plugin ?? '-', s.active ? 'active' : 'ORPHANED (no consumer)', s.retainedWalBytes === null ? '-' : formatBytes(s.retainedWalBytes)]),
  ]));
  const orphaned = slots.filter((s) => !s.active);
  if (orphaned.length > 0) {
    out.push(`${orphaned.length} slot(s) without a consumer keep WAL on the server until dropped: restart their streaming job, or drop them with`);
    for (const s of orphaned) out.push(`  psql -c "SELECT pg_drop_replication_slot('${s.slot}')"`);
  }
  return out.join('\n');
}

/** The section for the server at `url` (credentials removed from what is printed). */
export async function replicationSlotsSection(url: string): Promise<string> {
  let where = url;
  try {
    const u = new URL(url);
    u.password = '';
    where = `${u.host}${u.pathname}`;
  } catch {
    where = '(DATABASE_URL)';
  }
  return renderReplicationSlots(where, await listReplicationSlots(url));
}
