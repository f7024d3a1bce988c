"""Kefu (客服): customer service management for the 客服部 of Chinese companies."""

__version__ = "0.1.0"
