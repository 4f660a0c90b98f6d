"""mnviewer: live MobileNet classification and a full-convolution speed comparison."""

import os
import sys

__version__ = "0.1.0"

TELEMETRY_ENV = "MNVIEWER_TELEMETRY"


def _keep_library_telemetry_off() -> None:
    """Stop OpenVINO's and NNCF's usage telemetry before either is imported.

    `import openvino` imports `openvino.tools.ovc`, which sends a usage event through
    `openvino_telemetry` unless the user's global consent file says no; NNCF does the same.
    Both fall back to a silent stub when `openvino_telemetry` cannot be imported, and a
    `None` entry in `sys.modules` makes that import fail for this process only: the user's
    consent file is neither read nor written. `MNVIEWER_TELEMETRY=1` leaves the libraries'
    own behaviour (and the user's consent file) in charge.
    """
    if os.environ.get(TELEMETRY_ENV, "").strip().lower() in ("1", "true", "yes", "on"):
        return
    sys.modules.setdefault("openvino_telemetry", None)  # type: ignore[arg-type]


_keep_library_telemetry_off()
