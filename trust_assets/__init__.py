"""The Dagster code location of the Experiential Trust Index."""

import warnings

# Dagster flags two APIs this code location is built on as beta or preview: single-run backfill policies and
# partitioned asset-check specs (each day's check result in the partition view). Both are deliberate choices
# (docs/checks.md), the warnings repeat on every import and nothing here can change them, so they are silenced,
# by their text, for this package's users only.
warnings.filterwarnings("ignore", message=r".* is currently in (beta|preview)")
