{#- Models land in the schema their folder names (staging, marts, reference), not
    target_schema + '_' + name: analysts query marts.fct_missing_incidents.
    The nightly run builds the marts aside (var marts_schema: marts_next) and publishes the
    build in one transaction once it passes its gate (mfc.mart_builds). -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name and custom_schema_name | trim == 'marts' -%}
        {{ var('marts_schema', 'marts') }}
    {%- else -%}
        {{ custom_schema_name | trim if custom_schema_name else target.schema }}
    {%- endif -%}
{%- endmacro %}
