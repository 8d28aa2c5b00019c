with forces as (
    select * from {{ ref('police_forces') }}
),

final as (
    select
        pfa_code,
        force_name,
        country
    from forces
)

select * from final
