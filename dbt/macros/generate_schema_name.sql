{#- Models land in the schema their folder names (staging, marts, reference), not
    target_schema + '_' + name: analysts query marts.fct_missing_incidents. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name | trim if custom_schema_name else target.schema }}
{%- endmacro %}
