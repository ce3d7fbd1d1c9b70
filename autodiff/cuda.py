"""``autodiff.cuda``: what torch code asks before choosing a device. There is no GPU here."""
from __future__ import annotations


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0
