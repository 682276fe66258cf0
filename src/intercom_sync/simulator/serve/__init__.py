"""Ways to reach the simulated API: in process, over loopback HTTP, from the command line.

`simulator.Simulator` assembles a world, its runtime and the app and hands out in-process
httpx transports (`transport`); `server` runs it under uvicorn on 127.0.0.1; `cli` is the
`intercom-sync simulate` command.
"""
