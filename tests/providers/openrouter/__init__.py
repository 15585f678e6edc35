"""OpenRouter provider tests."""
