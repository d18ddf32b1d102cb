"""The Python API: :class:`~polymodal.api.task.Task` and :class:`~polymodal.api.model.GeneralistModel`."""
