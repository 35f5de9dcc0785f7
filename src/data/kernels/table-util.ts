/** Resolving column names with useful errors. */
import type * as arrow from 'apache-arrow';
import { UnknownColumnError } from '../errors.js';

/** Looks up a column, throwing UnknownColumnError that lists the available names. */
export function requireColumn(table: arrow.Table, name: string): arrow.Vector {
  const v = table.getChild(name);
  if (v === null) throw new UnknownColumnError(name, table.schema.fields.map((f) => f.name));
  return v as arrow.Vector;
}

