"""Time rules: the working-day holiday calendar, China-date deadlines and the yearly policy calendar."""
