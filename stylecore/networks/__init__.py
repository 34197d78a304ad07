"""Networks: the feed-forward preset transformer (transformer.py) and the any-style network (microast.py)."""

from .transformer import TransformerConfig, TransformerNet

__all__ = ["TransformerConfig", "TransformerNet"]
