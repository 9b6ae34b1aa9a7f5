"""Places: offline and online geocoding, searched place text, service areas, positions."""
