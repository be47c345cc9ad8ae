"""gunicorn settings shared by every start of the web app (Procfile, scripts/start, benchmarks: `-c gunicorn.conf.py`)."""
import os
from pathlib import Path

# One control socket per instance: gunicorn's default (~/.gunicorn/gunicorn.ctl) is shared by every
# gunicorn on the host, so one instance's control commands would reach another's.
_instance = Path(os.environ.get("INSTANCE_PATH") or Path(__file__).resolve().parent / "instance")
_instance.mkdir(parents=True, exist_ok=True)
control_socket = str(_instance / "gunicorn.ctl")
