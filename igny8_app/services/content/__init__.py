"""What the pipeline works on and makes: keywords, articles, prompt overrides."""
