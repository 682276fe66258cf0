"""A simulated Intercom workspace: seeded data, the REST contract, quirks, limits and faults."""
