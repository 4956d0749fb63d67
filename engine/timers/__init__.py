"""The timer sweep: claims due timer rows by lease and fires each in its own transaction."""
