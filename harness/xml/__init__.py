"""XML plumbing shared by the domain libraries (pytest-free, heavy imports deferred).

- :mod:`harness.xml.safe`: parse untrusted XML (no DTDs, no entities, no network, size limit).
- :mod:`harness.xml.schematron`: SaxonC processor, SchXslt2 compilation with a digest cache,
  SVRL reading with one normalised location form, rule catalogues from .sch files.
"""
