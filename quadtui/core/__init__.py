"""The UI-free core: config, data, model and training engine.  Never imports textual."""
