"""The installed version of usagekit."""

__version__ = "0.1.0"
