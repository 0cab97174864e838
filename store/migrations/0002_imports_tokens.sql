-- 0002: API tokens for writes, and the schema imports stage files in.

-- A token is shown once when it is made; only its SHA-256 is kept. Tokens are 32 random bytes, so
-- a fast hash is enough: there is nothing to guess, unlike a password.
CREATE TABLE api_tokens (
    id         bigserial PRIMARY KEY,
    name       text NOT NULL CHECK (name <> ''),
    hash       bytea NOT NULL UNIQUE CHECK (length(hash) = 32),
    admin      boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);

-- ogr2ogr writes each imported file into its own table here (staging.import_<random>); the import
-- reads it in one transaction and drops it. Exports stage their rows here for ogr2ogr to read.
CREATE SCHEMA IF NOT EXISTS staging;
