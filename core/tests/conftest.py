from __future__ import annotations

import pytest

from polymodal.testing import isolated_registry


@pytest.fixture
def registry():
    """A registry with discovery off and the fake TEXT/SPAN modalities."""
    return isolated_registry(fakes=True)
