"""Stage 5, render: compiled packs and evaluations for people and auditors — lineage JSON and
text, terminal tables and CSV reports, Markdown pack catalogs."""
