"""The simulated workspace and how it changes: no HTTP here.

From the bottom up: `spec.WorldSpec` says what to generate; `ids`, `timeline`,
`records`, `parts_store`, `searchindex` and `memberships` are the pieces records are
made of and kept in; `tables.WorldTables` holds every record, and `generate/` fills it
(seeded, so the same spec yields the same bytes); `world.World` adds the write methods
and the search index's history; `membership_reads` answers who is in which group;
`mutations.Mutator` (with `membership_ops`) changes a world the way a live workspace
changes.
"""
