"""pytest plugin of the Trade Conformance Harness (entry point ``pytest11: conformance``).

Placeholder: options and hooks land with the plugin work. Must stay import-light.
"""
