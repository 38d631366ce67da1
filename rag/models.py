"""Modele aplikacji rag."""
