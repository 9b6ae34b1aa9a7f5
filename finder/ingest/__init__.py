"""Feeds into the database: the registry of sources, one reader per published format, the rules
every format shares (prepare) and the one transaction that writes them (load, write)."""
