"""Campaign reads."""

from __future__ import annotations

