"""Screens of the live app."""
