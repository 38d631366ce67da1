"""Modele aplikacji surveys."""
