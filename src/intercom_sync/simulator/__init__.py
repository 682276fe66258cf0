"""A simulated Intercom workspace: seeded data, the REST contract, quirks, limits and faults.

Import it through `intercom_sync.simulator.service` (its public face, which says where
its boundary with the product lies). Inside, three layers, each importing only the ones
below it (no cycles, lazy imports included):

* `world/`  — the workspace and how it changes, no HTTP: `WorldSpec`, the seeded
  generator (`world/generate/`), the `World` with its search history, the `Mutator`.
* `api/`    — the HTTP contract over a `World`: endpoints, search, rendering per API
  version, cursors, scroll, the gateway (tokens, rate limits, faults), the runtime state,
  ground truth and `/_sim/*`; how the service behaves is in `api/spec.py`.
* `serve/`  — ways to reach it: `Simulator` (in process), `server` (uvicorn on
  127.0.0.1), `cli` (`intercom-sync simulate`).

Same seeds, same bytes: the world from `WorldSpec.seed`, the faults from `FaultSpec.seed`.
"""
