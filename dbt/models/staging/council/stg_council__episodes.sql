with source as (
    select * from {{ source('council', 'council_episodes') }}
),

renamed as (
    select
        submission_id,
        line_no as source_line_no,
        child_key,
        decom as episode_start,
        dec as episode_end,
        rne as reason_new_episode_code,
        ls as legal_status_code,
        cin as category_of_need_code,
        place as placement_type_code,
        place_provider as placement_provider_code,
        rec as reason_episode_ceased_code,
        reason_place_change as reason_placement_change_code,
        home_postcode_district,
        placement_postcode_district,
        urn as provider_urn
    from source
)

select * from renamed
