"""Build shim: everything else is in pyproject.toml.

The repository keeps rule profiles, the facility catalogue and column maps at ``data/`` (edited in
place); a wheel ships that folder as the package ``careplan_data``, which
``planner.io.catalogue.find_data_dir`` finds with ``importlib.resources`` when no checkout is
beside the code. ``maps/static`` (vendored map assets) and ``maps/templates`` are package data.
"""

from setuptools import find_namespace_packages, find_packages, setup

# maps/static and maps/templates hold data only; listed as (namespace) packages so setuptools
# ships them without warning that an importable folder is missing from ``packages``.
MAP_DATA = find_namespace_packages(include=["maps.static*", "maps.templates*"])

setup(
    packages=[*find_packages(include=["planner*", "api*", "maps*"]), *MAP_DATA, "careplan_data",
              "careplan_data.rules"],
    package_dir={"careplan_data": "data", "careplan_data.rules": "data/rules"},
    package_data={
        "careplan_data": ["*.toml", "*.md"],
        "careplan_data.rules": ["*.toml"],
        "planner": ["py.typed"],
        "maps": ["templates/*", "static/*/*", "static/*/*/*"],
    },
)
