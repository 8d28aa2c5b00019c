-- One PostgreSQL 16 server, two databases:
--   airflow  Airflow's metadata, owned by the role airflow
--   mfc      the warehouse, owned by the role mfc_loader (the pipeline and dbt run as it)
-- and a read role, mfc_analyst, for analysts' own logins (docs/security.md says what it reads).
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
CREATE ROLE mfc_loader LOGIN CREATEROLE PASSWORD :'loader_password';
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

-- The schemas, the other roles (mfc_transformer, mfc_publisher, mfc_authority and one login per
-- returning authority) and who reads what are made by the warehouse itself on its first run
-- (src/mfc/access.py, docs/security.md): mfc_loader has CREATEROLE for that.
