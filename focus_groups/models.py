"""Modele aplikacji focus_groups."""
