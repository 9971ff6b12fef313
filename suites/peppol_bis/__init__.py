"""Suite for profile ``peppol-bis``: Peppol BIS Billing 3.0, EN 16931, PINT and PINT SG documents."""
