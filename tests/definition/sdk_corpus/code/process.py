"""A processing script the corpus packs with FrameworkProcessor (never run)."""
