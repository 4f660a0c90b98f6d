"""mnviewer: live MobileNet classification and a full-convolution speed comparison."""

import os
import sys

__version__ = "0.1.0"

TELEMETRY_ENV = "MNVIEWER_TELEMETRY"
MAX_PIXELS_ENV = "MNVIEWER_MAX_IMAGE_PIXELS"
DEFAULT_MAX_IMAGE_PIXELS = 100_000_000


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


def _guard_image_decoding() -> None:
    """Hand the image pixel limit to OpenCV's own guard, read once when cv2 loads: a file
    over it is refused from its header, never decoded. A bad value is reported by the
    image source (mnviewer.sources.imagesize)."""
    if "cv2" in sys.modules:
        return
    try:
        limit = int(float(os.environ.get(MAX_PIXELS_ENV) or DEFAULT_MAX_IMAGE_PIXELS))
    except ValueError:
        return
    if limit > 0:
        os.environ["OPENCV_IO_MAX_IMAGE_PIXELS"] = str(limit)


_keep_library_telemetry_off()
_guard_image_decoding()
