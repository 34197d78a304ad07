import pytest

from stylecore.errors import InvalidImageError
from stylecore.imageio import open_image


def test_it_reports_an_unreadable_path_given_as_text(tmp_path):
    with pytest.raises(InvalidImageError, match=f"{tmp_path.name} is not a readable image"):
        open_image(str(tmp_path))  # a folder, named as a string
