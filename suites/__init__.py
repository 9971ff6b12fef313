"""Conformance suites, one package per profile (installed with the distribution)."""
