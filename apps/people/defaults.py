"""Kept because people migration 0005 imports `lifecycle_defaults_ensure` from here (migrations
are append-only). The lead lifecycle's reference data lives in apps.leads.defaults."""

from apps.leads.defaults import lifecycle_defaults_ensure

__all__ = ["lifecycle_defaults_ensure"]
