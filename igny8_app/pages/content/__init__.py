"""Content page: the site's articles, one article at /content/ID."""
