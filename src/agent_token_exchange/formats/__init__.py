"""File formats: the JSON/CSV export and the Scheme prototype's import."""
