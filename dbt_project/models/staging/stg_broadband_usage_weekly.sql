-- One row per broadband account and usage week, latest load.
{{ trust_index.staged_broadband_usage_weekly() }}
