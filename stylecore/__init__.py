"""stylecore: Atelier's neural style transfer engine. Plain PyTorch; knows nothing of Django, RQ or databases."""

from .configs import OptimizeConfig
from .errors import StyleCoreError
from .inference import Engine, EngineConfig
from .presets import Preset, get_preset
from .sidecars import check_weights

__all__ = ["Engine", "EngineConfig", "OptimizeConfig", "Preset", "StyleCoreError", "check_weights", "get_preset"]
