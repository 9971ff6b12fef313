"""Sub-commands of ``conformance``: one module each, with ``add_arguments(parser)`` and ``run(args)``.

``harness.cli`` imports a module only when its sub-command is used, so ``conformance validate``
never pays for the pytest machinery and ``conformance run`` never imports saxonche up front.
"""
