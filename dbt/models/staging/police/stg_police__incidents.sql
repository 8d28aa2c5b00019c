-- Named columns, not *: the date of birth itself is not granted beyond raw (docs/security.md).
with source as (
    select submission_id, line_no, force, incident_ref, person_key, dob_key, birth_month,
           age_at_report, sex, reported_missing, found, risk, looked_after, responsible_gss,
           placement_district, found_district
    from {{ source('police', 'police_incidents') }}
),

renamed as (
    select
        submission_id,
        line_no as source_line_no,
        force as force_code,
        incident_ref,
        person_key,
        -- Linkage compares the keyed hash of the date of birth; analysts see the month.
        dob_key,
        birth_month,
        age_at_report,
        sex as sex_code,
        reported_missing as reported_at,
        found as found_at,
        risk as risk_grade,
        looked_after as looked_after_flag,
        responsible_gss as responsible_authority_gss,
        placement_district,
        found_district
    from source
)

select * from renamed
