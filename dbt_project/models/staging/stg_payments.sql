-- One row per payment, latest load.
{{ trust_index.staged_payments() }}
