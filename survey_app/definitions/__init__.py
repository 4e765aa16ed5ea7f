"""Survey definitions: the TOML format, its loader and the expression language."""
