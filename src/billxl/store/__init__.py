"""The ledger: tables, connections, migrations, and the reads and writes the engine needs."""
