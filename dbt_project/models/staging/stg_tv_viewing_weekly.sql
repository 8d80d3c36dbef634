-- One row per TV account and viewing week, latest load.
{{ trust_index.staged_tv_viewing_weekly() }}
