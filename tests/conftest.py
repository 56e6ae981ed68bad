import os

import numpy as np
import pytest
from hypothesis import settings

settings.register_profile("tapegrad", max_examples=25, deadline=None, derandomize=True)
settings.load_profile("tapegrad")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
