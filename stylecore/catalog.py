"""The public-domain paintings we train preset styles on, with attribution (see shared/data/SOURCES.md)."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Painting:
    name: str
    file: str
    title: str
    artist: str
    year: str
    source: str

    def to_dict(self) -> dict:
        return asdict(self)


PAINTINGS = {p.name: p for p in [
    Painting("starry_night", "van_gogh_starry_night.jpg", "The Starry Night", "Vincent van Gogh", "1889",
             "Google Art Project scan, public domain (via jcjohnson/neural-style)"),
    Painting("great_wave", "hokusai_great_wave_off_kanagawa.jpg", "The Great Wave off Kanagawa", "Katsushika Hokusai",
             "c. 1831", "public domain (via jcjohnson/fast-neural-style)"),
    Painting("the_scream", "munch_the_scream.jpg", "The Scream", "Edvard Munch", "1893",
             "public domain (via jcjohnson/neural-style)"),
    Painting("composition_vii", "kandinsky_composition_vii.jpg", "Composition VII", "Wassily Kandinsky", "1913",
             "public domain (via jcjohnson/fast-neural-style)"),
    Painting("udnie", "picabia_udnie.jpg", "Udnie", "Francis Picabia", "1913",
             "public domain (via jcjohnson/fast-neural-style)"),
    Painting("woman_with_a_hat", "matisse_woman_with_a_hat.jpg", "Woman with a Hat", "Henri Matisse", "1905",
             "public domain (via jcjohnson/neural-style)"),
    Painting("water_lilies", "monet_water_lilies_1919.jpg", "Water Lilies", "Claude Monet", "1919",
             "public domain (via titu1994/Neural-Style-Transfer)"),
    Painting("mauclair_woodcut", "vallotton_camille_mauclair_woodcut.jpg", "Portrait of Camille Mauclair (woodcut)",
             "Félix Vallotton", "c. 1895", "public domain (via magenta/magenta)"),
]}
