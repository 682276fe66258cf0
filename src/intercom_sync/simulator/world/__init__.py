"""The simulated workspace and how it changes: no HTTP here.

`spec.WorldSpec` says what to generate; `generate/` makes the records (seeded, so the same
spec yields the same bytes); `world.World` holds them, with the search index's history;
`mutations.Mutator` (and `membership_ops`) change them the way a live workspace changes.
"""
