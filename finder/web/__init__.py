"""The web floor: the site and the JSON API over the search and the database (Flask)."""
