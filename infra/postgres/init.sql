-- One PostgreSQL 16 server, two databases:
--   airflow  Airflow's metadata, owned by the role airflow
--   mfc      the warehouse, owned by the role mfc_loader (the pipeline and dbt run as it)
-- and a read role, mfc_analyst, for analysts' own logins.
--
-- Run once by the postgres image, from /docker-entrypoint-initdb.d, when the data volume is
-- first created; psql runs it as the superuser. Passwords come from the container environment
-- (AIRFLOW_DB_PASSWORD, MFC_LOADER_PASSWORD), never from this file.

\set ON_ERROR_STOP on

\getenv airflow_password AIRFLOW_DB_PASSWORD
\getenv loader_password MFC_LOADER_PASSWORD

\if :{?airflow_password}
\else
  DO $$ BEGIN RAISE EXCEPTION 'AIRFLOW_DB_PASSWORD is not set in the postgres container'; END $$;
\endif
\if :{?loader_password}
\else
  DO $$ BEGIN RAISE EXCEPTION 'MFC_LOADER_PASSWORD is not set in the postgres container'; END $$;
\endif

CREATE ROLE airflow LOGIN PASSWORD :'airflow_password';
CREATE ROLE mfc_loader LOGIN PASSWORD :'loader_password';
-- No login: grant it to each analyst's own role (see infra/README.md).
CREATE ROLE mfc_analyst NOLOGIN;

CREATE DATABASE airflow OWNER airflow;
CREATE DATABASE mfc OWNER mfc_loader;

REVOKE ALL ON DATABASE airflow FROM PUBLIC;
REVOKE ALL ON DATABASE mfc FROM PUBLIC;
GRANT CONNECT ON DATABASE mfc TO mfc_analyst;

\connect mfc

-- Nobody but the owner creates objects in public (already so in PostgreSQL 15 and later).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- Analysts read the marts, the published tables, the reference seeds and the data-quality
-- results (dbt puts models in the schema their folder names: dbt/macros/generate_schema_name.sql).
-- They get no USAGE on landing, raw, audit or staging, which hold full dates of birth and rows as
-- delivered, so the blanket SELECT default below does not reach those tables.
CREATE SCHEMA marts AUTHORIZATION mfc_loader;
CREATE SCHEMA published AUTHORIZATION mfc_loader;
CREATE SCHEMA reference AUTHORIZATION mfc_loader;
CREATE SCHEMA dq AUTHORIZATION mfc_loader;
GRANT USAGE ON SCHEMA marts, published, reference, dq TO mfc_analyst;

-- Every table and view the loader creates from now on is readable by mfc_analyst wherever the
-- schema grants USAGE.
ALTER DEFAULT PRIVILEGES FOR ROLE mfc_loader GRANT SELECT ON TABLES TO mfc_analyst;
