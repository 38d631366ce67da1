"""Modele aplikacji personas."""
