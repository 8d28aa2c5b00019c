"""Alembic's environment: mfc.schema hands over an open connection; there is no alembic.ini."""

from alembic import context

from mfc.schema import VERSION_TABLE, VERSION_TABLE_SCHEMA

connection = context.config.attributes["connection"]
context.configure(connection=connection, version_table=VERSION_TABLE,
                  version_table_schema=VERSION_TABLE_SCHEMA, transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
