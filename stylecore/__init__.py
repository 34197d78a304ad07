"""stylecore: Atelier's neural style transfer engine. Plain PyTorch; knows nothing of Django, RQ or databases."""

from .errors import StyleCoreError
from .inference import Engine, EngineConfig
from .presets import Preset

__all__ = ["Engine", "EngineConfig", "Preset", "StyleCoreError"]
