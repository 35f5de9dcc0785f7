-- Rental recommendations: one schema for the real Airbnb data (Albany) and the synthetic generator.
-- Apply with `applySchema(url, schema)` from schema.ts (or psql -f schema.sql). Idempotent.
-- No foreign keys on purpose: every table is bulk-replaced through a staging table swapped in one
-- transaction (Dataset.writePostgres mode 'overwrite'), which a referencing key would block.

CREATE TABLE IF NOT EXISTS listings (
  id            bigint PRIMARY KEY,          -- Inside Airbnb ids exceed 2^53: keep them bigint end to end
  name          text,
  neighbourhood text,
  room_type     text,
  description   text,
  property_type text,
  price         numeric(12, 2),              -- nightly, the city's currency (sign removed); NULL when the source has none
  accommodates  integer,
  bedrooms      double precision,
  beds          double precision,
  bathrooms     double precision,
  minimum_nights double precision,
  availability_365 double precision,
  latitude      double precision,
  longitude     double precision,
  amenities     text,                        -- JSON list as text (castable to jsonb)
  host_id       bigint,
  first_seen    date                         -- first review / appearance (new listings over time)
);

-- Columns added for the generic city loader (city.ts); a schema applied before them gains them here.
ALTER TABLE listings ADD COLUMN IF NOT EXISTS description text;
ALTER TABLE listings ADD COLUMN IF NOT EXISTS property_type text;
ALTER TABLE listings ADD COLUMN IF NOT EXISTS beds double precision;
ALTER TABLE listings ADD COLUMN IF NOT EXISTS bathrooms double precision;
ALTER TABLE listings ADD COLUMN IF NOT EXISTS minimum_nights double precision;
ALTER TABLE listings ADD COLUMN IF NOT EXISTS availability_365 double precision;

CREATE TABLE IF NOT EXISTS users (
  id         bigint PRIMARY KEY,
  first_seen date
);

-- Explicit ratings are stars in (0, 5]; implicit feedback (a stay, i.e. an Airbnb review) has rating 1.
-- A (user_id, listing_id) pair may repeat: see the duplicate policy in README.md.
CREATE TABLE IF NOT EXISTS ratings (
  user_id    bigint NOT NULL,
  listing_id bigint NOT NULL,
  rating     real   NOT NULL CHECK (rating > 0 AND rating <= 5),
  rated_at   date   NOT NULL
);
CREATE INDEX IF NOT EXISTS ratings_user_id_idx ON ratings (user_id);

-- Nightly availability and price (seasonality); loaded from calendar.csv.gz for the real data.
CREATE TABLE IF NOT EXISTS calendar (
  listing_id bigint NOT NULL,
  date       date   NOT NULL,
  available  boolean,
  price      numeric(10, 2)
);

-- Top-N per user, replaced atomically by each run (staging table + swap in one transaction).
CREATE TABLE IF NOT EXISTS recommendations (
  user_id    bigint      NOT NULL,
  rank       integer     NOT NULL,
  listing_id bigint      NOT NULL,
  score      real        NOT NULL,
  model      text        NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (user_id, rank)
);
