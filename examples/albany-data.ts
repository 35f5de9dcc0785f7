/**
 * Where the real Inside Airbnb data of Albany, NY lives: `data/airbnb-albany/` in this repository
 * (listings.csv, reviews.csv, calendar.csv.gz; CC BY 4.0, see its README.md), or the folder named by
 * SHOAL_DATA_DIR (RENTAL_ALBANY_DIR is accepted too). Examples, tests and benchmarks all find it here.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The Albany data folder; an Error naming where it looked when it is missing. */
export function albanyDataDir(): string {
  const fromEnv = process.env.SHOAL_DATA_DIR ?? process.env.RENTAL_ALBANY_DIR;
  if (fromEnv) return resolve(fromEnv);
  // This file runs from examples/ (sources, tests) or dist/examples/ (compiled): walk up to the repository.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const candidate = join(dir, 'data', 'airbnb-albany');
    if (existsSync(join(candidate, 'reviews.csv'))) return candidate;
    dir = dirname(dir);
  }
  throw new Error(`cannot find data/airbnb-albany/reviews.csv above ${dirname(fileURLToPath(import.meta.url))}; set SHOAL_DATA_DIR to the Albany data folder`);
}

/** A city shipped in this repository's data/ folder (`airbnb-albany`, `airbnb-beijing`), ignoring SHOAL_DATA_DIR. */
export function repoCityDir(name: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const candidate = join(dir, 'data', name);
    if (existsSync(join(candidate, 'README.md'))) return candidate;
    dir = dirname(dir);
  }
  throw new Error(`cannot find data/${name} above ${dirname(fileURLToPath(import.meta.url))}`);
}
