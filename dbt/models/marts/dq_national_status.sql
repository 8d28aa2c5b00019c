-- Every English authority in being at the end of each collection year that any council has
-- returned for, x that year: returned or not, by the deadline or not, and one national status.
-- The deadline is return_deadline() (macros/return_deadline.sql); "late" is judged on when the
-- warehouse received the first submission, "overdue" on dq_as_of() (var dq_as_of, else today);
-- neither applies to a year whose deadline fell before collection_started() (a backfill).
with authorities as (
    select * from {{ ref('dim_authorities') }}
    where country = 'England'
),

submissions as (
    select * from {{ ref('dq_submissions') }}
),

history as (
    select * from {{ ref('dq_authority_history') }}
),

years as (
    select distinct
        collection_year,
        period_start,
        period_end
    from submissions
    where return_source = 'council' and period_end is not null
),

expected as (
    select
        years.collection_year,
        years.period_start,
        years.period_end,
        authorities.authority_gss,
        authorities.authority_name,
        authorities.region_name
    from years
    inner join authorities
        on authorities.valid_from <= years.period_end
        and (authorities.valid_to is null or authorities.valid_to >= years.period_end)
),

judged as (
    select
        expected.*,
        {{ return_deadline('expected.period_end') }} as deadline,
        history.authority_year_key is not null as has_returned,
        coalesce(history.submissions_received, 0) as submissions_received,
        history.latest_submission_id,
        history.latest_status,
        history.loaded_submission_id,
        history.first_delivered_at,
        history.first_received_at,
        {{ return_deadline('expected.period_end') }}
            >= coalesce({{ collection_started(ref('dq_submissions')) }}, '-infinity'::date)
            as is_collected
    from expected
    left join history
        on history.authority_gss = expected.authority_gss
        and history.collection_year = expected.collection_year
),

final as (
    select
        authority_gss || ':' || collection_year as authority_year_key,
        collection_year,
        authority_gss,
        authority_name,
        region_name,
        deadline,
        has_returned,
        submissions_received,
        latest_submission_id,
        latest_status,
        loaded_submission_id,
        first_delivered_at,
        first_received_at,
        -- Null when nothing was received: that is overdue (or not yet due), not late.
        is_collected and (first_received_at at time zone 'Europe/London')::date > deadline
            as is_late,
        is_collected and not has_returned and {{ dq_as_of() }} > deadline as is_overdue,
        -- No else: a state these rules miss is null, and the not_null test says so.
        case
            when loaded_submission_id is not null then 'loaded'
            when latest_status in ('received', 'gated') then 'received'
            when latest_status = 'quarantined' then 'quarantined'
            when is_collected and not has_returned and {{ dq_as_of() }} > deadline
                then 'overdue'
            when not has_returned then 'not returned'
        end as national_status
    from judged
)

select * from final
