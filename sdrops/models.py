"""Abstract bases the apps share (no tables of their own)."""
