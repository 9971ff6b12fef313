"""Suite for profile ``peppol-smp``: Peppol SMP 1.x (the participant as SMP operator) and the SML/SMP
lookup a sending Access Point does (the participant as AP)."""
