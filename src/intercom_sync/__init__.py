"""intercom-sync: copy a whole Intercom workspace into a local analytics store."""

__version__ = "0.1.0"
