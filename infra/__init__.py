"""Infrastructure below the domain: database factory, bulk row writer, mail, clock, keyset pagination."""
