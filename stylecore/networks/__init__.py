"""Networks: the feed-forward preset transformer and the arbitrary-style decoder."""

from .transformer import TransformerConfig, TransformerNet

__all__ = ["TransformerConfig", "TransformerNet"]
