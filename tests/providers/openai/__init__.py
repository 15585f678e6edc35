"""OpenAI: the concurrent page walk of records() and its page sizes."""
