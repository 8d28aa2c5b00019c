-- Every record of a child the warehouse holds (an authority's CHILD, a force's PERSON_REF),
-- and the distinct child it is: child_id. Council records of one child are joined by the keyed
-- hash of the UPN (a child who moves authority gets a new CHILD), or without one by
-- int_council_moves; a police person joins the council child it is linked to
-- (int_police_person_links), else is a child of its own.
with recursive children as (
    select * from {{ ref('int_council_children') }}
),

moves as (
    select * from {{ ref('int_council_moves') }}
),

-- Follow moves back to the first record of the child (each record has at most one partner).
first_records as (
    select child_key, child_key as first_child_key
    from children
    where child_key not in (select to_child_key from moves)
    union all
    select moves.to_child_key, first_records.first_child_key
    from moves
    inner join first_records on first_records.child_key = moves.from_child_key
),

links as (
    select * from {{ ref('int_police_person_links') }}
),

persons as (
    select person_key, force_code from {{ ref('int_police_persons') }}
),

council as (
    select
        'council' as record_source,
        children.child_key as record_key,
        children.authority_gss as authority_or_force,
        coalesce('U' || children.upn_key, 'C' || first_records.first_child_key)
            as identity_group,
        case
            when children.upn_key is not null then 'UPN'
            when first_records.first_child_key <> children.child_key
                then 'moved: sex, date of birth, consecutive years'
        end as resolved_by
    from children
    inner join first_records on first_records.child_key = children.child_key
),

police as (
    select
        'police' as record_source,
        persons.person_key as record_key,
        persons.force_code as authority_or_force,
        coalesce(council.identity_group, 'P' || persons.person_key) as identity_group,
        case when links.child_key is not null
             then 'sex, ' || links.matched_on || ', ' || links.shared_incidents
                  || ' shared incident(s)'
        end as resolved_by
    from persons
    left join links on links.person_key = persons.person_key
    left join council on council.record_key = links.child_key
),

final as (
    select
        md5(identity_group) as child_id,
        record_source,
        record_key,
        authority_or_force,
        resolved_by
    from (select * from council union all select * from police) as records
)

select * from final
