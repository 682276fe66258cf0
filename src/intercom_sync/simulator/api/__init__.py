"""The simulated Intercom REST API: the HTTP contract, as an ASGI app over a `World`.

What it answers (`endpoints`, `search`, `render` per API version, `cursors`, `scroll`),
what stands in front of it (`gateway`: tokens, versions, `ratelimit`, `faults`), how it
behaves (`spec`: quirks, limits, faults, tokens), the state it keeps while it serves
(`runtime`), what a perfect copy of its data holds (`truth`), and `/_sim/*` (`control`).
"""
