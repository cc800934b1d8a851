"""Only what pyproject.toml cannot say: two folders that sit at the top of the repository, where
their users look for them, ship inside the package so that `pip install livecompanion` (not only a
checkout) serves the OBS pages and migrates its database:

    overlays/    -> livecompanion/overlays     (the OBS browser-source pages)
    migrations/  -> livecompanion/migrations   (Alembic's environment and versions)

The code looks for the packaged copy first and for the checkout's folder otherwise
(api/pages.py OVERLAYS, storage/migrate.py MIGRATIONS).
"""

from setuptools import find_namespace_packages, setup

setup(
    packages=[*find_namespace_packages(include=["livecompanion*"]),
              "livecompanion.overlays", "livecompanion.migrations", "livecompanion.migrations.versions"],
    package_dir={"livecompanion.overlays": "overlays", "livecompanion.migrations": "migrations",
                 "livecompanion.migrations.versions": "migrations/versions"},
)
