"""The IMAGE modality of polymodal (see README). Import-light: heavy parts live in their own modules.

- :mod:`~polymodal_modality_image.spec`: the component declarations (entry points);
- :mod:`~polymodal_modality_image.io`: reading images safely from paths, bytes, base64, PIL or arrays;
- :mod:`~polymodal_modality_image.preprocess`: the ``image`` preprocessor;
- :mod:`~polymodal_modality_image.transform`: the geometric transform a BOX slot follows;
- :mod:`~polymodal_modality_image.adapters`: ``image.resnet``, ``image.vit``, ``image.small`` (torch).
"""
from __future__ import annotations

__version__ = "0.1.0"
