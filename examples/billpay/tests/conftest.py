"""The application lives one folder up; the kiosk fixture comes from the workbench's plugin."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
