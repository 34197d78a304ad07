"""stylecore: Atelier's neural style transfer engine. Plain PyTorch; knows nothing of Django, RQ or databases."""

from .configs import OptimizeConfig
from .errors import StyleCoreError
from .imageio import prepare_photo
from .inference import Engine, EngineConfig, Render, redial
from .presets import Preset, get_preset
from .sidecars import check_weights

__all__ = [
    "Engine", "EngineConfig", "OptimizeConfig", "Preset", "Render", "StyleCoreError", "check_weights", "get_preset",
    "prepare_photo", "redial",
]
