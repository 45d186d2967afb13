"""The live Textual app.  Imports neither torch nor the engine at module level."""
