"""Anthropic: the Admin API's usage report, cost report and Claude Code usage report."""
