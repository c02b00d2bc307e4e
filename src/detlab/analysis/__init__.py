"""Analysis: per-class results set against dataset attributes, error breakdowns, statistics."""
