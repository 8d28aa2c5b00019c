-- Who reads what (docs/security.md). Applied by mfc.access after the schema migrations (mfc.schema) on every run, so
-- it is safe to run again; the group roles themselves (cluster-wide) are made in Python first.
--
--   mfc_loader       landing, raw, audit, dq: everything as delivered (the pipeline)
--   mfc_transformer  dbt: raw without full dates of birth, audit, dq results without values;
--                    builds staging, intermediate, marts, reference
--   mfc_analyst      marts, reference, published, audit, dq results without row values
--   mfc_publisher    published only
--   mfc_authority    each returning authority's login: its own submissions, results, failing
--                    rows (identifiers withheld) and its own children's rows in the marts

-- dbt's schemas exist before dbt runs, so their grants are made here once. The marts' schema is
-- granted by mfc.access.grant_on_marts_schema, which grants each night's build the same.
create schema if not exists staging;
create schema if not exists intermediate;
create schema if not exists marts;
create schema if not exists reference;
create schema if not exists published;

revoke all on schema landing, raw, audit, dq, staging, intermediate, reference, published
    from public;

-- The loader: all of what arrives and what the gate decides.
grant usage on schema landing, raw, audit, dq to mfc_loader;
grant select, insert, update, delete, truncate
    on all tables in schema landing, raw, audit, dq to mfc_loader;
grant usage, select on all sequences in schema audit to mfc_loader;
grant usage on schema reference to mfc_loader;  -- the reports and the mart gate

-- The transformer: dbt's sources, never a full date of birth nor a failing row's values.
do $$
declare
    source_table record;
begin
    execute format('grant connect on database %I to mfc_loader, mfc_transformer, mfc_analyst, '
                   'mfc_publisher, mfc_authority', current_database());
    execute format('grant create on database %I to mfc_transformer', current_database());
    for source_table in
        select table_schema, table_name, string_agg(quote_ident(column_name), ', ') as readable
        from information_schema.columns
        where table_schema = 'raw'
            and column_name not in ('dob', 'mc_dob')
        group by 1, 2
    loop
        execute format('grant select (%s) on %I.%I to mfc_transformer',
                       source_table.readable, source_table.table_schema, source_table.table_name);
    end loop;
end $$;
grant usage on schema raw, audit, dq to mfc_transformer;
grant select on all tables in schema audit to mfc_transformer;
grant usage, create on schema staging, intermediate, reference, published
    to mfc_transformer;
grant select (submission_id, run_id, check_id, table_name, stage, severity, result,
              unexpected_count, checked_count, message, checked_at)
    on dq.check_results to mfc_transformer;

-- Analysts: the marts and published tables (dbt grants each table), the audit trail, and what
-- each check found, but not the failing rows' values (they hold dates of birth as delivered).
grant usage on schema reference, published, audit, dq to mfc_analyst;
grant select on audit.submissions, audit.submission_files, audit.mart_builds, audit.releases
    to mfc_analyst;
grant select (submission_id, run_id, check_id, table_name, stage, severity, result,
              unexpected_count, checked_count, message, checked_at)
    on dq.check_results to mfc_analyst;
grant select (submission_id, run_id, check_id, file_name, line_no)
    on dq.failing_rows to mfc_analyst;

-- The publisher: the published tables only.
grant usage on schema published to mfc_publisher;
grant select on all tables in schema published to mfc_publisher;

-- Authorities: their own rows, through row-level security keyed on the login's authority.
grant usage on schema audit, dq, reference to mfc_authority;
grant select on audit.authority_logins to mfc_authority;
grant select on audit.submissions to mfc_authority;
grant select (submission_id, run_id, check_id, table_name, stage, severity, result,
              unexpected_count, checked_count, message, checked_at)
    on dq.check_results to mfc_authority;

-- The authority whose login this is; null for every other role.
create or replace function audit.login_authority() returns text
language sql stable as $$
    select authority_gss from audit.authority_logins where role_name = current_user
$$;
revoke all on function audit.login_authority() from public;
grant execute on function audit.login_authority()
    to mfc_authority, mfc_analyst, mfc_loader, mfc_transformer;

alter table audit.submissions enable row level security;
drop policy if exists everyone_but_authorities on audit.submissions;
create policy everyone_but_authorities on audit.submissions for all
    to mfc_loader, mfc_transformer, mfc_analyst using (true);
drop policy if exists own_submissions on audit.submissions;
create policy own_submissions on audit.submissions for select
    to mfc_authority using (authority_gss = audit.login_authority());

alter table dq.check_results enable row level security;
drop policy if exists everyone_but_authorities on dq.check_results;
create policy everyone_but_authorities on dq.check_results for all
    to mfc_loader, mfc_transformer, mfc_analyst using (true);
drop policy if exists own_results on dq.check_results;
-- audit.submissions is itself filtered: only the authority's own submissions are found.
create policy own_results on dq.check_results for select
    to mfc_authority using (submission_id in (select submission_id from audit.submissions));

-- An authority's failing rows, its own only, with identifiers withheld: the row's file and line
-- say which row it is; the value of a child's or person's identifier, a date of birth or a full
-- postcode is not repeated back (docs/security.md).
create or replace view dq.authority_failing_rows with (security_barrier) as
select
    failing.submission_id,
    failing.run_id,
    failing.check_id,
    failing.file_name,
    failing.line_no,
    (
        select coalesce(jsonb_object_agg(cell.key, case
            when upper(cell.key) in ('CHILD', 'UPN', 'DOB', 'MC_DOB', 'PERSON_REF', 'HOME_POST',
                                     'PL_POST')
                then to_jsonb('(withheld)'::text)
            else cell.value end), '{}'::jsonb)
        from jsonb_each(failing."values") as cell
    ) as "values"
from dq.failing_rows as failing
inner join audit.submissions as submission
    on submission.submission_id = failing.submission_id
where submission.authority_gss = audit.login_authority();
grant select on dq.authority_failing_rows to mfc_authority;
