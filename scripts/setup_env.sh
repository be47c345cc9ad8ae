# Shared by scripts/start and scripts/test: make the virtualenv and install the project.
# Re-installs only when pyproject.toml changed since the last install.
set -euo pipefail
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "==> creating virtualenv .venv"
  "$PYTHON" -m venv .venv
fi
extras=${1:-}
stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)${extras:+-$extras}"
if [ ! -f "$stamp" ]; then
  echo "==> installing Python packages (first run takes a few minutes: torch CPU build, argostranslate)"
  .venv/bin/pip install --quiet --upgrade pip
  # torch is pinned (==2.13.0) in pyproject.toml: that spec takes the local CPU build.
  .venv/bin/pip install --quiet -e ".${extras:+[$extras]}"
  touch "$stamp"
fi

# apt_install PACKAGE...: install Debian packages that are missing (needs root and apt).
apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "==> missing system packages: ${missing[*]} (install them with apt-get as root)"
    return 1
  fi
  echo "==> installing system packages: ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}
