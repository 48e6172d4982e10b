"""Keywords page: list, add and import the site's keywords."""
