"""Who owns which part of the graph (shown on every asset in the UI)."""

DATA_ENGINEERING = "team:data-engineering"
ANALYTICS_ENGINEERING = "team:analytics-engineering"
ML_ENGINEERING = "team:ml-engineering"
