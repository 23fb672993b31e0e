"""Data-preparation views: transformers that go first in every pipeline."""
