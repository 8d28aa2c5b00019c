-- Each police person (a force's PERSON_REF, keyed hash person_key) with what linkage knows of
-- it: the force, and the date of birth (keyed hash) and sex it was most often given. A table
-- of its own so that the linkage joins are planned from real row counts.
{{ config(indexes=[{'columns': ['person_key'], 'unique': True}]) }}

with incidents as (
    select * from {{ ref('int_police_incidents') }}
),

final as (
    select
        person_key,
        max(force_code) as force_code,
        mode() within group (order by dob_key) as dob_key,
        mode() within group (order by sex_code) as sex_code
    from incidents
    group by 1
)

select * from final
