-- One row per missing incident, across council and police returns: a council period and a
-- police incident that are the same event (int_incident_matches) are one row, 'both'.
with periods as (
    select * from {{ ref('int_council_periods') }}
),

incidents as (
    select * from {{ ref('int_police_incidents') }}
),

matches as (
    select * from {{ ref('int_incident_matches') }}
),

identities as (
    select * from {{ ref('int_identities') }}
),

-- The authority of a child the police saw without a council record of the incident: that of
-- the council record the person is linked to.
linked_authority as (
    select links.person_key, children.authority_gss
    from {{ ref('int_police_person_links') }} as links
    inner join {{ ref('int_council_children') }} as children
        on children.child_key = links.child_key
),

-- Failing that, the authority the force named most often for the person.
named_authority as (
    select person_key, mode() within group (order by responsible_authority_gss) as authority_gss
    from incidents
    where responsible_authority_gss is not null
    group by 1
),

combined as (
    select
        periods.council_submission_id,
        periods.council_line_no,
        incidents.police_submission_id,
        incidents.police_line_no,
        periods.child_key as council_child_key,
        incidents.person_key as police_person_key,
        periods.authority_gss as council_authority_gss,
        periods.collection_year as council_collection_year,
        periods.missing_type,
        periods.start_date as council_start,
        periods.end_date as council_end,
        incidents.force_code,
        incidents.responsible_authority_gss as police_authority_gss,
        incidents.risk_grade,
        incidents.reported_at,
        incidents.found_at
    from matches
    inner join periods using (council_submission_id, council_line_no)
    inner join incidents using (police_submission_id, police_line_no)

    union all

    select
        periods.council_submission_id, periods.council_line_no, null, null,
        periods.child_key, null, periods.authority_gss, periods.collection_year,
        periods.missing_type, periods.start_date, periods.end_date,
        null, null, null, null, null
    from periods
    where not exists (
        select 1 from matches
        where matches.council_submission_id = periods.council_submission_id
            and matches.council_line_no = periods.council_line_no
    )

    union all

    select
        null, null, incidents.police_submission_id, incidents.police_line_no,
        null, incidents.person_key, null, null,
        null, null, null,
        incidents.force_code, incidents.responsible_authority_gss, incidents.risk_grade,
        incidents.reported_at, incidents.found_at
    from incidents
    where not exists (
        select 1 from matches
        where matches.police_submission_id = incidents.police_submission_id
            and matches.police_line_no = incidents.police_line_no
    )
),

final as (
    select
        md5(coalesce('council:' || combined.council_submission_id || ':'
                     || combined.council_line_no, '') || '|'
            || coalesce('police:' || combined.police_submission_id || ':'
                        || combined.police_line_no, '')) as incident_key,
        coalesce(council_identity.child_id, police_identity.child_id) as child_id,
        case
            when combined.council_line_no is not null and combined.police_line_no is not null
                then 'both'
            when combined.council_line_no is not null then 'council'
            else 'police'
        end as incident_source,
        -- The council's authority when it returned the incident; else the authority the force
        -- named; else that of the council record the police person is linked to; else the one
        -- the force named for the person's other incidents.
        coalesce(combined.council_authority_gss, combined.police_authority_gss,
                 linked_authority.authority_gss, named_authority.authority_gss)
            as responsible_authority_gss,
        combined.force_code,
        -- Council dates where the council returned it (the DfE count), else the police times.
        coalesce(combined.council_start, combined.reported_at::date) as started_on,
        case when combined.council_line_no is not null then combined.council_end
             else combined.found_at::date end as ended_on,
        case when combined.council_line_no is not null then combined.council_end is null
             else combined.found_at is null end as is_open,
        -- Whole days, as DfE counts them: back the same day is 0, overnight is 1; open is null.
        case when combined.council_line_no is not null
                 then combined.council_end - combined.council_start
             else combined.found_at::date - combined.reported_at::date end as duration_days,
        round((extract(epoch from combined.found_at - combined.reported_at) / 3600)::numeric, 1)
            as duration_hours,
        combined.missing_type,
        combined.risk_grade,
        combined.reported_at,
        combined.found_at,
        periods.financial_year,
        periods.calendar_year,
        combined.council_collection_year,
        combined.council_child_key,
        combined.police_person_key,
        combined.council_submission_id,
        combined.council_line_no,
        combined.police_submission_id,
        combined.police_line_no,
        -- From a return an operator released with its failures (mfc release).
        council_release.submission_id is not null or police_release.submission_id is not null
            as from_released_return
    from combined
    left join identities as council_identity
        on council_identity.record_source = 'council'
        and council_identity.record_key = combined.council_child_key
    left join identities as police_identity
        on police_identity.record_source = 'police'
        and police_identity.record_key = combined.police_person_key
    left join linked_authority on linked_authority.person_key = combined.police_person_key
    left join named_authority on named_authority.person_key = combined.police_person_key
    left join {{ ref('stg_audit__releases') }} as council_release
        on council_release.submission_id = combined.council_submission_id
    left join {{ ref('stg_audit__releases') }} as police_release
        on police_release.submission_id = combined.police_submission_id
    inner join {{ ref('dim_periods') }} as periods
        on periods.date_day = coalesce(combined.council_start, combined.reported_at::date)
)

select * from final
