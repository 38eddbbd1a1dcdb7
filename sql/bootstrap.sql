-- sql/bootstrap.sql — what every migration stands on: the roles, the schemas and the table
-- of applied migrations.  interactions-migrate runs it first, as a superuser, in its
-- session holding the advisory lock, outside any transaction of its own; everything here
-- is idempotent, so every run of the tool runs it again.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'interactions_owner') THEN
        CREATE ROLE interactions_owner NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'interactions_app') THEN
        CREATE ROLE interactions_app LOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'interactions_system') THEN
        CREATE ROLE interactions_system NOLOGIN BYPASSRLS;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'interactions_dba') THEN
        CREATE ROLE interactions_dba LOGIN BYPASSRLS;
    END IF;
END $$;
-- the module's role must never escape row-level security, whatever happened before
ALTER ROLE interactions_app NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT;
COMMENT ON ROLE interactions_app IS 'mod_interactions connects as this role: owns nothing, cannot bypass row-level security.';
COMMENT ON ROLE interactions_owner IS 'Owns the interactions schema (NOLOGIN).';
COMMENT ON ROLE interactions_system IS 'Owns the SECURITY DEFINER functions that cross contact centers (NOLOGIN, BYPASSRLS).';
COMMENT ON ROLE interactions_dba IS 'For people: reads every table and view of every contact center, provisions through the functions.';
CREATE SCHEMA IF NOT EXISTS interactions AUTHORIZATION interactions_owner;
CREATE SCHEMA IF NOT EXISTS interactions_ext AUTHORIZATION interactions_owner;
CREATE SCHEMA IF NOT EXISTS interactions_meta AUTHORIZATION interactions_owner;
COMMENT ON SCHEMA interactions IS 'mod_interactions: contact-center interactions, their history, and the API functions.';
COMMENT ON SCHEMA interactions_ext IS 'Extensions used by mod_interactions (pgcrypto).';
COMMENT ON SCHEMA interactions_meta IS 'Bookkeeping of interactions-migrate.';
CREATE TABLE IF NOT EXISTS interactions_meta.schema_migrations (
    version     text PRIMARY KEY,
    checksum    text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE interactions_meta.schema_migrations IS 'Versioned migrations applied to this database.';
GRANT USAGE ON SCHEMA interactions_meta TO interactions_dba;
GRANT SELECT ON interactions_meta.schema_migrations TO interactions_dba;
