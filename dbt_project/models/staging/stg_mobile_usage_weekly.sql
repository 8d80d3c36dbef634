-- One row per mobile line and usage week, latest load.
{{ trust_index.staged_mobile_usage_weekly() }}
