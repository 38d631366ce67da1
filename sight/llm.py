"""Warstwa LLM — szkielet; pełna implementacja w toku."""
