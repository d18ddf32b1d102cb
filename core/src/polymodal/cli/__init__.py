"""The ``polymodal`` command line."""
