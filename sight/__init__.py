"""Sight: pakiet projektu i rdzeń (projekty, konta, warstwa LLM, graf, zadania, API)."""
