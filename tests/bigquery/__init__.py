"""Tests of the BigQuery target that need no credentials and make no network call."""
