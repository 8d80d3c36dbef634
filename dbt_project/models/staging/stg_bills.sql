-- One row per bill, latest load.
{{ trust_index.staged_bills() }}
