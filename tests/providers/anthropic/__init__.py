"""Anthropic provider tests."""
