"""A training entry script the corpus packs as SourceCode (never run)."""
