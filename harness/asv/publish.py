"""asv pages that work offline: ``asv publish`` writes an ``index.html`` that loads jQuery, flot,
bootstrap, stupidtable and blueimp-md5 from CDNs (without the internet it shows asv's error page).
:func:`make_offline` points those tags at copies vendored from the npm registry (``vendor/``, with
their licenses; ``vendor/README.md`` lists them) and copies them into the published folder.

Serve the folder on the loopback interface only (``python -m http.server --bind 127.0.0.1 -d html``):
asv's page reads its JSON with XMLHttpRequest, which browsers refuse on ``file://``, and
``asv preview`` listens on every interface.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from optbench.harness.core.errors import HarnessError

VENDOR = Path(__file__).with_name("vendor")
VENDOR_FOLDER = "vendor"  # where the copies go inside the published folder
# asv 0.6.6's CDN URLs -> vendored npm files. flot is the npm package's unminified build of the same
# release; stupidtable 1.0.1 is not on npm, its successor stupid-table-plugin 1.1.3 (same API) is.
VENDORED = {
    "https://code.jquery.com/jquery-3.3.1.min.js": "jquery@3.3.1/dist/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.min.js": "flot@0.8.3/jquery.flot.js",
    "https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.time.min.js": "flot@0.8.3/jquery.flot.time.js",
    "https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.selection.min.js":
        "flot@0.8.3/jquery.flot.selection.js",
    "https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.categories.min.js":
        "flot@0.8.3/jquery.flot.categories.js",
    "https://cdn.jsdelivr.net/npm/flot-orderbars@1.0.0/js/jquery.flot.orderBars.js":
        "flot-orderbars@1.0.0/js/jquery.flot.orderBars.js",
    "https://cdnjs.cloudflare.com/ajax/libs/stupidtable/1.0.1/stupidtable.min.js":
        "stupid-table-plugin@1.1.3/stupidtable.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/blueimp-md5/2.19.0/js/md5.min.js": "blueimp-md5@2.19.0/js/md5.min.js",
    "https://cdn.jsdelivr.net/npm/bootstrap@3.1.1/dist/js/bootstrap.min.js": "bootstrap@3.1.1/dist/js/bootstrap.min.js",
    "https://cdn.jsdelivr.net/npm/bootstrap@3.1.1/dist/css/bootstrap.min.css":
        "bootstrap@3.1.1/dist/css/bootstrap.min.css",
}
# A script's src or a link's href (stylesheets, icons) that leaves the published folder.
_EXTERNAL = re.compile(r"<(?:script|link)\b[^>]*?\b(?:src|href)\s*=\s*[\"']((?:https?:)?//[^\"']+)[\"'][^>]*>",
                       re.IGNORECASE)
# Subresource-integrity and CORS attributes: a CORS request for a local file fails on file:// pages.
_CDN_ATTRIBUTES = re.compile(r"\s+(?:integrity|crossorigin|referrerpolicy)\s*=\s*[\"'][^\"']*[\"']", re.IGNORECASE)


def external_urls(html: str) -> list[str]:
    """URLs of scripts and stylesheets (any ``<script src>`` / ``<link href>``) outside the page's folder."""
    return _EXTERNAL.findall(html)


def offline_html(html: str) -> str:
    """``html`` with every vendored CDN tag pointing at ``vendor/…``; raises HarnessError naming any
    external script or style left (a newer asv naming a library not vendored here)."""

    def local(match: re.Match) -> str:
        tag, url = match.group(0), match.group(1)
        if url not in VENDORED:
            raise HarnessError(f"asv's page loads {url} from the network and no copy is vendored in {VENDOR}; "
                               "add it (npm pack) and to harness/asv/publish.py's VENDORED")
        return _CDN_ATTRIBUTES.sub("", tag.replace(url, f"{VENDOR_FOLDER}/{VENDORED[url]}"))

    return _EXTERNAL.sub(local, html)


def make_offline(html_dir: Path) -> list[Path]:
    """Rewrite every page in asv's published folder to the vendored copies and copy them there;
    returns the pages rewritten."""
    html_dir = Path(html_dir)
    if not (html_dir / "index.html").is_file():
        raise HarnessError(f"{html_dir} holds no index.html: run `asv publish` first")
    pages = sorted(html_dir.glob("*.html"))
    for page in pages:
        page.write_text(offline_html(page.read_text()))
    shutil.copytree(VENDOR, html_dir / VENDOR_FOLDER, dirs_exist_ok=True)
    return pages


def publish(config: Path, asv_args: list[str]) -> Path:
    """``asv publish`` with ``config`` (and ``asv_args``), then :func:`make_offline` on its output
    folder; returns the folder."""
    from asv.config import Config

    if not config.is_file():
        raise HarnessError(f"asv configuration {config} not found (run from the repository root or give --config)")
    html_dir = (config.parent / Config.load(str(config)).html_dir).resolve()
    done = subprocess.run([sys.executable, "-m", "asv", "publish", "--config", str(config), *asv_args])
    if done.returncode != 0:
        raise HarnessError(f"asv publish failed (exit {done.returncode})")
    make_offline(html_dir)
    return html_dir
