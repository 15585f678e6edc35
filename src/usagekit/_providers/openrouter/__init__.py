"""Private package of usagekit (see usagekit/__init__.py for the public names)."""
