"""One runner per kind of stream (see `streams.catalog.Kind`)."""
