-- One row per missing or away period in the current council return of each authority and year.
-- Police incidents join here in a later release (docs/architecture.md).
with periods as (
    select * from {{ ref('stg_council__missing_periods') }}
),

current_submissions as (
    select * from {{ ref('stg_audit__submissions') }}
    where is_current and return_source = 'council'
),

final as (
    select
        md5(periods.submission_id::text || ':' || periods.source_line_no::text) as incident_key,
        periods.child_key,
        current_submissions.authority_gss as responsible_authority_gss,
        current_submissions.collection_year,
        periods.missing_type,
        periods.missing_start,
        periods.missing_end,
        periods.missing_end is null as is_open,
        -- Whole days, as DfE counts them: back the same day is 0, overnight is 1; open is null.
        periods.missing_end - periods.missing_start as duration_days,
        periods.submission_id,
        periods.source_line_no
    from periods
    inner join current_submissions
        on current_submissions.submission_id = periods.submission_id
)

select * from final
