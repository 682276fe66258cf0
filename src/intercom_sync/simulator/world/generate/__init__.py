"""The seeded generator: what a workspace's records look like when they are made.

Used twice: `populate` fills a new world, and the `Mutator` makes new contacts,
companies, conversations and tickets with the same builders later on.
"""
