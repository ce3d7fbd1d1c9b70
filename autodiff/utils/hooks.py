"""Hook handles, as ``torch.utils.hooks``: tensor hooks and the optimizers' hooks return one of these."""
from __future__ import annotations

import itertools

__all__ = ["RemovableHandle"]


class RemovableHandle:
    """What a ``register_*hook`` returns: ``handle.remove()`` unregisters the hook; as a context manager, the
    hook is removed on leaving the block."""

    _ids = itertools.count()

    def __init__(self, hooks: dict) -> None:
        self._hooks = hooks
        self.id = next(RemovableHandle._ids)

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self) -> "RemovableHandle":
        return self

    def __exit__(self, *exc) -> None:
        self.remove()
