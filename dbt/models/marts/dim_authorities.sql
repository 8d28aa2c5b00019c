with authorities as (
    select * from {{ ref('authorities') }}
),

regions as (
    select * from {{ ref('regions') }}
),

forces as (
    select * from {{ ref('police_forces') }}
),

final as (
    select
        authorities.gss_code as authority_gss,
        nullif(authorities.dfe_code, '') as dfe_code,
        authorities.authority_name,
        authorities.authority_type,
        authorities.region_code,
        regions.region_name,
        authorities.country,
        authorities.pfa_code,
        forces.force_name,
        authorities.valid_from,
        authorities.valid_to,
        authorities.valid_to is null as is_live,
        nullif(authorities.successor_gss_codes, '') as successor_gss_codes
    from authorities
    left join regions on regions.region_code = authorities.region_code
    left join forces on forces.pfa_code = authorities.pfa_code
)

select * from final
