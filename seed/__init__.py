"""Generated populations: the Pingdingshan demo data and the province-sized benchmark data."""
