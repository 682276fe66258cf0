"""The command implementations behind `intercom-sync`."""
