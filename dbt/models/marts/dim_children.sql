-- depends_on: {{ ref('fct_missing_incidents') }} (its row-level security policy reads it)
-- One row per distinct child across England and Wales: every council record (an authority's
-- CHILD) and police record (a force's PERSON_REF) that int_identities resolved to the same
-- child, with how. Birth month only; no identifier a source sent.
with identities as (
    select * from {{ ref('int_identities') }}
),

council_children as (
    select * from {{ ref('int_council_children') }}
),

police_incidents as (
    select * from {{ ref('int_police_incidents') }}
),

council_facts as (
    select identities.child_id,
           max(council_children.birth_month) as birth_month,
           max(council_children.sex_code) as sex_code
    from identities
    inner join council_children on council_children.child_key = identities.record_key
    where identities.record_source = 'council'
    group by 1
),

police_facts as (
    select identities.child_id,
           max(police_incidents.birth_month) as birth_month,
           max(police_incidents.sex_code) as sex_code
    from identities
    inner join police_incidents on police_incidents.person_key = identities.record_key
    where identities.record_source = 'police'
    group by 1
),

records as (
    select
        child_id,
        count(*) filter (where record_source = 'council') as council_records,
        count(*) filter (where record_source = 'police') as police_records,
        count(distinct authority_or_force) filter (where record_source = 'council')
            as authorities,
        count(distinct authority_or_force) filter (where record_source = 'police') as forces,
        bool_or(record_source = 'council' and resolved_by = 'UPN') as has_upn,
        string_agg(distinct resolved_by, '; ') filter (where record_source = 'police')
            as police_link_evidence
    from identities
    group by 1
),

final as (
    select
        records.child_id,
        case
            when records.council_records = 0 then 'police only: no council record matched'
            when records.council_records > 1 and records.police_records > 0
                then 'council records joined by UPN; police records linked'
            when records.council_records > 1 then 'council records joined by UPN'
            when records.police_records > 0 then 'council record; police records linked'
            else 'council record only'
        end as how_resolved,
        records.council_records,
        records.police_records,
        records.authorities,
        records.forces,
        records.council_records > 0 as looked_after,
        records.police_link_evidence,
        coalesce(council_facts.birth_month, police_facts.birth_month) as birth_month,
        coalesce(council_facts.sex_code, police_facts.sex_code) as sex_code
    from records
    left join council_facts on council_facts.child_id = records.child_id
    left join police_facts on police_facts.child_id = records.child_id
)

select * from final
