-- The warehouse's own tables outside dbt: audit trail, landing (text as delivered), raw (typed,
-- pseudonymised, append-only) and data-quality results, as the last release before versioned
-- migrations made them. Idempotent (create ... if not exists), so it upgrades a warehouse made
-- by that release as well as an empty database. Never edit it: a change is a new revision.

create schema if not exists audit;
create schema if not exists landing;
create schema if not exists raw;
create schema if not exists dq;

-- Helpers used by the gate queries and by promotion to raw.

-- dd/mm/yyyy -> date; null for anything else (including impossible dates like 31/02/2024).
-- Plain SQL with CASE (evaluated in order), not plpgsql with an exception handler: it is
-- inlined, and runs on every date of every row the gate reads.
create or replace function landing.to_date_uk(value text) returns date
language sql immutable parallel safe as $$
    select case
        when value !~ '^\d{2}/\d{2}/\d{4}$' then null
        when substr(value, 4, 2)::int not between 1 and 12 then null
        when substr(value, 7, 4)::int < 1 then null
        when substr(value, 1, 2)::int not between 1 and extract(day from
            make_date(substr(value, 7, 4)::int, substr(value, 4, 2)::int, 1)
            + interval '1 month - 1 day')::int then null
        else make_date(substr(value, 7, 4)::int, substr(value, 4, 2)::int,
                       substr(value, 1, 2)::int)
    end
$$;

-- HMAC-SHA256 from the built-in sha256(), so no extension is needed. The caller passes the key
-- already padded and XORed with ipad/opad (see mfc.pseudonymise), never the key itself.
create or replace function landing.keyed_hash(value text, inner_key bytea, outer_key bytea)
returns text
language sql immutable parallel safe as $$
    select case when value is null then null
                else encode(sha256(outer_key || sha256(inner_key || convert_to(value, 'UTF8'))), 'hex')
           end
$$;

-- Postcode -> postcode district (outward code): 'TS1 2AB' -> 'TS1'; an outward code alone is kept.
create or replace function landing.postcode_district(value text) returns text
language sql immutable parallel safe as $$
    select coalesce(
        substring(upper(regexp_replace(value, '\s', '', 'g')) from '^([A-Z]{1,2}[0-9][A-Z0-9]?)[0-9][A-Z]{2}$'),
        substring(upper(btrim(value)) from '^([A-Z]{1,2}[0-9][A-Z0-9]?)$')
    )
$$;

create table if not exists audit.submissions (
    submission_id bigint generated always as identity primary key,
    source text not null check (source in ('council', 'police', 'aggregate')),
    authority_as_delivered text not null,
    authority_gss text,                  -- null when the delivery names no authority we know
    collection_year text not null,       -- '2023-24' as delivered
    period_start date,                   -- null when the collection year is not recognised
    period_end date,
    fileset_sha256 text not null,        -- sha256 over the sorted (table, file sha256) pairs
    landing_path text not null,
    received_at timestamptz not null default now(),
    status text not null default 'received'
        check (status in ('received', 'gated', 'loaded', 'quarantined', 'superseded')),
    status_changed_at timestamptz not null default now(),
    superseded_by bigint references audit.submissions (submission_id)
);

-- The same files delivered again for the same authority and year are the same submission.
create unique index if not exists submissions_delivered_once
    on audit.submissions (source, coalesce(authority_gss, authority_as_delivered), collection_year, fileset_sha256);

create table if not exists audit.submission_files (
    submission_id bigint not null references audit.submissions (submission_id),
    file_name text not null,             -- as delivered
    table_name text,                     -- header / episodes / missing; null if not recognised
    sha256 text not null,
    bytes bigint not null,
    archived_path text not null,         -- the kept copy, whatever became of the submission
    columns_delivered text[],            -- first line as delivered; null until read or if unreadable
    primary key (submission_id, file_name)
);

create table if not exists landing.council_header (
    submission_id bigint not null, line_no integer not null,
    child text, sex text, dob text, ethnic text, upn text, mother text, mc_dob text,
    primary key (submission_id, line_no)
);

create table if not exists landing.council_episodes (
    submission_id bigint not null, line_no integer not null,
    child text, decom text, rne text, ls text, cin text, place text, place_provider text,
    dec text, rec text, reason_place_change text, home_post text, pl_post text, urn text,
    primary key (submission_id, line_no)
);

create table if not exists landing.council_missing (
    submission_id bigint not null, line_no integer not null,
    child text, dob text, missing text, mis_start text, mis_end text,
    primary key (submission_id, line_no)
);

create table if not exists raw.council_header (
    submission_id bigint not null references audit.submissions (submission_id),
    line_no integer not null,
    child_key text not null,             -- HMAC of authority GSS code + CHILD
    upn_key text,                        -- HMAC of UPN (national pupil number)
    sex text,
    dob date,                            -- full date of birth stays in raw
    ethnic text,
    mother text,
    mc_dob date,
    primary key (submission_id, line_no)
);

create table if not exists raw.council_episodes (
    submission_id bigint not null references audit.submissions (submission_id),
    line_no integer not null,
    child_key text not null,
    decom date, rne text, ls text, cin text, place text, place_provider text,
    dec date, rec text, reason_place_change text,
    home_postcode_district text, placement_postcode_district text, urn text,
    primary key (submission_id, line_no)
);

create table if not exists raw.council_missing (
    submission_id bigint not null references audit.submissions (submission_id),
    line_no integer not null,
    child_key text not null,
    dob date,
    missing_type text not null,          -- M missing, A away without authorisation
    mis_start date not null,
    mis_end date,
    primary key (submission_id, line_no)
);

create table if not exists dq.check_results (
    submission_id bigint not null references audit.submissions (submission_id),
    run_id text not null,
    check_id text not null,
    table_name text,                     -- null for checks of the submission as a whole
    stage text not null check (stage in ('file', 'structure', 'content', 'cross-table', 'cross-submission')),
    severity text not null check (severity in ('blocking', 'warning')),
    result text not null check (result in ('PASS', 'WARNING', 'FAIL', 'NOT_RUN')),
    unexpected_count bigint,
    checked_count bigint,
    message text not null,
    examples jsonb not null default '[]', -- up to 20: file, line as delivered, column values
    checked_at timestamptz not null default now(),
    primary key (submission_id, run_id, check_id)
);

-- Every failing row of every failed check (check_results keeps only 20 examples): the source
-- of the CSV each returning authority gets. Values are the offending cells as delivered, never
-- a child identifier; line_no is the line as delivered (1 = column names), null for a file.
create table if not exists dq.failing_rows (
    submission_id bigint not null references audit.submissions (submission_id),
    run_id text not null,
    check_id text not null,
    file_name text not null,
    line_no integer,
    "values" jsonb not null default '{}'
);
create index if not exists failing_rows_submission on dq.failing_rows (submission_id, run_id, check_id);

-- Added with the police return. 'add column if not exists' keeps this file re-runnable on a
-- warehouse made before it (there is no migration tool yet: see docs/architecture.md).

-- A keyed hash of the date of birth: linkage compares it, so the full date stays in raw.
alter table raw.council_header add column if not exists dob_key text;

-- dd/mm/yyyy HH:MM (24-hour clock, UK local time as the clock showed it) -> timestamp; null for
-- anything else.
create or replace function landing.to_timestamp_uk(value text) returns timestamp
language sql immutable parallel safe as $$
    select case
        when value !~ '^\d{2}/\d{2}/\d{4} \d{2}:\d{2}$' then null
        when substr(value, 12, 2)::int > 23 or substr(value, 15, 2)::int > 59 then null
        else landing.to_date_uk(substr(value, 1, 10))
             + make_interval(hours => substr(value, 12, 2)::int, mins => substr(value, 15, 2)::int)
    end
$$;

-- Age in whole years on a day, as people count it (birthdays, not days / 365).
create or replace function landing.age_on(dob date, on_day date) returns integer
language sql immutable parallel safe as $$
    select extract(year from age(on_day, dob))::integer
$$;

-- A police month file as delivered (docs/returns/police.md), with what its folder and name say
-- (folder_force, file_month) and the responsible authority as the register resolved it.
create table if not exists landing.police_incidents (
    submission_id bigint not null, line_no integer not null,
    folder_force text, file_month date,
    force text, incident_ref text, person_ref text, dob text, age text, sex text,
    reported_missing text, found text, risk text, looked_after text, responsible_la text,
    placement_district text, found_district text,
    responsible_gss text,
    primary key (submission_id, line_no)
);

create table if not exists raw.police_incidents (
    submission_id bigint not null references audit.submissions (submission_id),
    line_no integer not null,
    force text not null,                 -- police force area GSS code (E23, W15)
    incident_ref text not null,          -- the force's own reference: not a personal identifier
    person_key text not null,            -- HMAC of force code + PERSON_REF
    dob date,                            -- full date of birth stays in raw
    dob_key text,                        -- HMAC of the date of birth, for linkage
    age_at_report integer not null,      -- from DOB when given, else AGE
    sex text not null,                   -- M, F, U
    reported_missing timestamp not null, -- UK local time as delivered
    found timestamp,
    risk text not null,
    looked_after text,
    responsible_la_as_delivered text,
    responsible_gss text,                -- resolved on the date reported missing
    placement_district text not null,
    found_district text,
    primary key (submission_id, line_no)
);

-- When the files were delivered: the newest modification time among them, kept as the
-- landing folder showed it (received_at is when the nightly run found them). The lateness check
-- (mfc.submission.late) reads it.
alter table audit.submissions add column if not exists delivered_at timestamptz;

-- Valid codes by collection year (first year: 2024 = 2024-25), refreshed from
-- mfc.returns.council.CODE_LISTS by mfc.warehouse.ensure_schema.
create table if not exists landing.code_lists (
    field text not null, code text not null, first_year integer, last_year integer
);

create or replace function landing.valid_code(field text, code text, collection_year text)
returns boolean language sql stable parallel safe as $$
    select exists (
        select from landing.code_lists c
        where c.field = valid_code.field and c.code = valid_code.code
          and left(collection_year, 4)::int between coalesce(c.first_year, 0)
                                                and coalesce(c.last_year, 9999))
$$;

-- The gate looks up each delivered INCIDENT_REF among the force's loaded months.
create index if not exists police_incidents_force_ref on raw.police_incidents (force, incident_ref);

-- Aggregate returns (docs/returns/aggregate.md): FOI answers and legacy tables, one value per row.
-- A reported value as an interval: a number is itself (or, rounded to the nearest r, the range
-- that rounds to it); a suppressed value is the range it may hide; upper null = no upper bound.
-- "at least 120", "120+", ">= 120" -> 120; "more than 120", "over 120", "> 120" -> 121; else
-- null. Press and FOI answers give such figures when the exact count was not worked out.
create or replace function landing.lower_bound_mark(value text) returns bigint
language sql immutable parallel safe as $$
    select case
        when lower(trim(value)) ~ '^(at least|>=|≥)\s*\d[\d,]*$'
            then replace(substring(trim(value) from '\d[\d,]*$'), ',', '')::bigint
        when trim(value) ~ '^\d[\d,]*\s*\+$'
            then replace(substring(trim(value) from '^(\d[\d,]*)'), ',', '')::bigint
        when lower(trim(value)) ~ '^(more than|over|>)\s*\d[\d,]*$'
            then replace(substring(trim(value) from '\d[\d,]*$'), ',', '')::bigint + 1
    end
$$;

-- A period's first or last possible day: dd/mm/yyyy is itself; a bare year (a period known
-- only to the year, or "since YEAR") is 1 January or 31 December of it.
create or replace function landing.earliest_day(value text) returns date
language sql immutable parallel safe as $$
    select case when trim(value) ~ '^\d{4}$' then make_date(trim(value)::int, 1, 1)
                else landing.to_date_uk(value) end
$$;

create or replace function landing.latest_day(value text) returns date
language sql immutable parallel safe as $$
    select case when trim(value) ~ '^\d{4}$' then make_date(trim(value)::int, 12, 31)
                else landing.to_date_uk(value) end
$$;

create or replace function landing.reported_lower(value text, rounded_to text) returns bigint
language sql immutable parallel safe as $$
    select case
        when replace(value, ',', '') ~ '^\d+$' then greatest(0,
            replace(value, ',', '')::bigint - coalesce(rounded_to::bigint / 2, 0))
        when landing.lower_bound_mark(value) is not null then landing.lower_bound_mark(value)
        else 0
    end
$$;

create or replace function landing.reported_upper(value text, rounded_to text) returns bigint
language sql immutable parallel safe as $$
    select case
        when replace(value, ',', '') ~ '^\d+$' then replace(value, ',', '')::bigint
            + coalesce((rounded_to::bigint + 1) / 2 - 1, 0)
        when lower(value) in ('<5', '< 5', 'fewer than five', 'fewer than 5', 'less than 5')
            then 4
        else null                        -- c, *, x, blank, at least N: any value (above N)
    end
$$;

-- What a suppressed value was written as, in words; null for a number.
create or replace function landing.suppression(value text) returns text
language sql immutable parallel safe as $$
    select case
        when value is null then 'blank'
        when replace(value, ',', '') ~ '^\d+$' then null
        when lower(value) in ('<5', '< 5', 'fewer than five', 'fewer than 5', 'less than 5')
            then 'fewer than 5'
        when lower(value) = 'c' then 'confidential'
        when value = '*' then 'disclosive'
        when lower(value) = 'x' then 'not available'
        when landing.lower_bound_mark(value) is not null then 'lower bound'
    end
$$;

create table if not exists landing.aggregate_values (
    submission_id bigint not null, line_no integer not null,
    area text, period_start text, period_end text, measure text, value text, rounded_to text,
    note text,
    area_type text, area_gss text,       -- as the register resolved AREA on PERIOD_END
    primary key (submission_id, line_no)
);

create table if not exists raw.aggregate_values (
    submission_id bigint not null references audit.submissions (submission_id),
    line_no integer not null,
    area_as_delivered text not null,
    area_type text not null,             -- authority, force, country, national
    area_gss text not null,
    period_start date not null,
    period_end date not null,
    measure text not null,
    value_as_delivered text,
    rounded_to integer,
    value_lower bigint not null,
    value_upper bigint,                  -- null: no upper bound (c, *, x, blank)
    suppression text,                    -- null for a number
    note text,
    primary key (submission_id, line_no)
);

-- A quarantined submission an operator released (`mfc release`): who, when, why, and what it
-- had failed. The next gate loads it with its failures still flagged (docs/operations.md).
create table if not exists audit.releases (
    submission_id bigint primary key references audit.submissions (submission_id),
    released_by text not null,           -- the operator's login on the machine, and the database role
    released_at timestamptz not null default now(),
    reason text not null check (btrim(reason) <> ''),
    failed_checks text[] not null,       -- the blocking checks it had failed when released
    outcome text                         -- why it could not be loaded after all; null when it was
);

-- Reported figures a statistician can trust (docs/returns/aggregate.md): who produced a
-- figure and what it counts, breakdowns, approximate periods and partial coverage. All
-- optional in the file; a file in the first format loads as it did.
alter table landing.aggregate_values
    add column if not exists source_kind text, add column if not exists source_name text,
    add column if not exists counting text, add column if not exists age_band text,
    add column if not exists sex text, add column if not exists covered_from text,
    add column if not exists covered_to text,
    add column if not exists area_suggestion text;   -- the nearest name, for the error message
alter table raw.aggregate_values
    add column if not exists source_kind text not null default 'other',
    add column if not exists source_name text,
    add column if not exists counting text,            -- children measures: each_child_once, yearly_sum
    add column if not exists age_band text,            -- null: all ages
    add column if not exists sex text,                 -- null: both
    add column if not exists period_start_latest date, -- differs from period_start when the
    add column if not exists period_end_earliest date, -- period is known only to the year
    add column if not exists covered_from date,        -- the part of the period the figure
    add column if not exists covered_to date;          -- covers, when not all of it

-- Added with national scale: a delivered file that cannot be read (a link, a special file, an
-- unreadable one) is registered with the reason and no copy, and its delivery is quarantined.
alter table audit.submission_files add column if not exists problem text;
alter table audit.submission_files alter column sha256 drop not null;
alter table audit.submission_files alter column archived_path drop not null;
-- The police reconciliation of each council return counts its looked-after children's police
-- incidents in the year: without this, every return scanned every police incident.
create index if not exists police_incidents_looked_after_by_authority
    on raw.police_incidents (responsible_gss, reported_missing) where looked_after = 'Y';

-- Dates the council checks compare, read once as each row lands rather than again by every
-- check that compares them (the national gate's costliest work was parsing the same dates).
alter table landing.council_header
    add column if not exists dob_date date generated always as (landing.to_date_uk(dob)) stored;
alter table landing.council_episodes
    add column if not exists decom_date date generated always as (landing.to_date_uk(decom)) stored,
    add column if not exists dec_date date generated always as (landing.to_date_uk(dec)) stored;
alter table landing.council_missing
    add column if not exists dob_date date generated always as (landing.to_date_uk(dob)) stored,
    add column if not exists mis_start_date date
        generated always as (landing.to_date_uk(mis_start)) stored,
    add column if not exists mis_end_date date
        generated always as (landing.to_date_uk(mis_end)) stored;
alter table landing.police_incidents
    add column if not exists dob_date date generated always as (landing.to_date_uk(dob)) stored,
    add column if not exists reported_at timestamp
        generated always as (landing.to_timestamp_uk(reported_missing)) stored,
    add column if not exists found_at timestamp
        generated always as (landing.to_timestamp_uk(found)) stored;

-- Each build of the marts that passed the mart gate: a night with nothing new, on a day the
-- marts were already built from the same dbt project, does not build them again.
create table if not exists audit.mart_builds (
    built_at timestamptz not null default now(),
    run_id text not null,
    project_fingerprint text not null,   -- sha256 over the dbt project's files
    full_refresh boolean not null default false
);

-- The month of birth, kept beside the full date so that nothing beyond raw (dbt included)
-- needs to read the date itself (docs/security.md).
alter table raw.council_header add column if not exists birth_month date
    generated always as (dob - (extract(day from dob)::integer - 1)) stored;
alter table raw.police_incidents add column if not exists birth_month date
    generated always as (dob - (extract(day from dob)::integer - 1)) stored;

-- The fingerprint of the pseudonymisation key the warehouse was loaded with (never the key):
-- a run with another key would hash every child anew and split each into two.
create table if not exists audit.warehouse_key (
    fingerprint text not null,
    recorded_at timestamptz not null default now(),
    only_one boolean primary key default true check (only_one)
);

-- The login role of each returning authority (a council or a police force), made from the
-- authorities register by mfc.access; row-level security reads it (src/mfc/sql/access.sql).
create table if not exists audit.authority_logins (
    role_name name primary key,
    authority_gss text not null unique,
    authority_name text not null
);

-- The age at the start of each missing period, from the date of birth the row gave: the
-- published age bands need it, and it saves the date itself leaving raw.
alter table raw.council_missing add column if not exists age_at_start integer
    generated always as (landing.age_on(dob, mis_start)) stored;
