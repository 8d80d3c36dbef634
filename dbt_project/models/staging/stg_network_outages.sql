-- One row per network outage, latest load; started_date is the UTC calendar date the outage started.
-- network_area is NULL for an outage of the whole region.
{{ trust_index.staged_network_outages() }}
