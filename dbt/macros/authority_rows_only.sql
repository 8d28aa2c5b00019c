{#- Row-level security for a mart returning authorities may read (docs/security.md): analysts
    and the loader read every row; an authority's login only the rows `condition` gives it
    (audit.login_authority() is its code). A post-hook: dbt rebuilds the table, so the policies
    are made again with it. -#}
{% macro authority_rows_only(condition) %}
    alter table {{ this }} enable row level security;
    drop policy if exists readers on {{ this }};
    create policy readers on {{ this }} for select to mfc_analyst, mfc_loader using (true);
    drop policy if exists own_authority on {{ this }};
    create policy own_authority on {{ this }} for select to mfc_authority using ({{ condition }})
{% endmacro %}
