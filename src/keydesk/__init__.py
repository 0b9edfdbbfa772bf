"""Keydesk: a multi-tenant helpdesk whose accounts are secured like an identity provider's."""

__version__ = "0.1.0"
