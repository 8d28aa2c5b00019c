-- A child with no UPN who moves to another authority gets a new CHILD there, and nothing in
-- either return says so. Such a child is taken to be the same child when: neither record has
-- a UPN; the date of birth (keyed hash) and sex agree; one authority returned the child up to
-- a year, still in care at its end, and the other from the next year on; and each record has
-- exactly one such partner.
with children as (
    select *,
        left(first_collection_year, 4)::integer as first_year,
        left(last_collection_year, 4)::integer as last_year
    from {{ ref('int_council_children') }}
    where upn_key is null and dob_key is not null
),

candidates as (
    select earlier.child_key as from_child_key, later.child_key as to_child_key
    from children as earlier
    inner join children as later
        on later.dob_key = earlier.dob_key
        and later.sex_code = earlier.sex_code
        and later.authority_gss <> earlier.authority_gss
        and later.first_year = earlier.last_year + 1
    where earlier.in_care_at_end_of_last_return
),

final as (
    select from_child_key, to_child_key
    from (
        select *,
            count(*) over (partition by from_child_key) as partners_of_earlier,
            count(*) over (partition by to_child_key) as partners_of_later
        from candidates
    ) as counted
    where partners_of_earlier = 1 and partners_of_later = 1
)

select * from final
