"""asv plugin: the ``sharedvenv`` environment type — one virtualenv per Python, in which asv
installs each benchmarked commit of optbench, while every *dependency* (torch, scipy, …) comes
from the interpreter that runs asv.

Why: asv's ``virtualenv`` type installs torch and the optimizer libraries into every environment
(about a minute and 1 GB each, and a registry to reach); ``existing`` (``--python=same``) installs
nothing, so it benchmarks whatever ``optbench`` the interpreter has, whatever commit asv says.
``sharedvenv`` builds and installs each commit (``build_command``/``install_command`` of
``asv.conf.json``, a few seconds, offline) so ``asv continuous A B`` really compares A with B.

The dependencies are reached through a path file listing the interpreter's site-packages: a plain
path line, so that directory's own ``.pth`` files — among them the editable-install hook pointing
at a working copy — are *not* executed, and the commit installed in the environment is the only
``objectives``/``harness`` importable. Dependency versions are those of the interpreter, the same
for every commit. Loaded through ``"plugins": [".optbench.harness.asv.env"]`` in ``asv.conf.json``.
"""

from __future__ import annotations

import os
import sys

from asv import util
from asv.console import log
from asv.plugins.virtualenv import Virtualenv

SHARED_PTH = "_asv_shared_deps.pth"
# site.getsitepackages(): the interpreter's own site-packages and, for a venv made with
# --system-site-packages (how the development venvs here are built), the base interpreter's too.
_SITE_DIRS = "import site; print(*dict.fromkeys(site.getsitepackages()))"


class SharedVirtualenv(Virtualenv):
    """A virtualenv whose dependencies are those of the interpreter running asv (no downloads)."""

    tool_name = "sharedvenv"

    def _setup(self) -> None:
        log.info(f"Creating virtualenv for {self.name} (dependencies shared with {self._executable})")
        env = dict(os.environ, **self.build_env_vars)
        util.check_call([sys.executable, "-m", "virtualenv", "--no-setuptools", "--no-periodic-update",
                         "-p", self._executable, self._path], env=env)
        shared = util.check_output([self._executable, "-c", _SITE_DIRS]).split()
        own = self.run_executable("python", ["-c", _SITE_DIRS]).split()
        with open(os.path.join(own[0], SHARED_PTH), "w") as fh:
            fh.write("".join(f"{path}\n" for path in shared if path not in own))
