"""Anomaly detection, as torch.autograd.anomaly_mode (the switches live in ``autodiff.anomaly``, below the
engine, which reads them)."""
from ..anomaly import detect_anomaly, is_anomaly_check_nan_enabled, is_anomaly_enabled, set_detect_anomaly

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled", "is_anomaly_check_nan_enabled"]
