"""The project's home: the one place that names where memcomp lives.

Everything that points at the home is generated from the three settings below by
``python scripts/sync_home.py``: the launch buttons (``repository:`` in ``_config.yml``),
the Colab install line in the setup cell of every chapter (pinned to :data:`RELEASE`),
the "Where it lives" lines of ``README.md`` and ``CITATION.cff``. A test
(``tests/test_home.py``) fails when any of them is out of date, and when the home's address
is written out by hand anywhere else.

To publish a fork: change :data:`REPOSITORY` (and :data:`BRANCH`, :data:`RELEASE` if they
differ), run ``python scripts/sync_home.py``, commit, push, and choose "GitHub Actions" as
the source of the repository's Pages.

This module is plain Python with no imports, so the script reads it without importing
memcomp (and so without numpy or torch).
"""

#: The repository's address (GitHub: ``https://github.com/OWNER/NAME``, no trailing slash).
REPOSITORY = "https://github.com/memcomp-book/memcomp"

#: The branch the book is built and published from; the launch buttons open it.
BRANCH = "main"

#: The release tag that Colab installs (``pip install "memcomp @ git+REPOSITORY@RELEASE"``).
RELEASE = "v0.1.0"


def owner_and_name(repository: str = REPOSITORY) -> tuple[str, str]:
    """``("OWNER", "NAME")`` of a ``https://github.com/OWNER/NAME`` address.

    Raises
    ------
    ValueError
        If ``repository`` is not of that form.
    """
    prefix = "https://github.com/"
    parts = repository[len(prefix) :].split("/") if repository.startswith(prefix) else []
    if len(parts) != 2 or not all(parts) or repository.endswith((".git", "/")):
        raise ValueError(f"REPOSITORY must look like 'https://github.com/OWNER/NAME'; got {repository!r}")
    return parts[0], parts[1]


def pages_url(repository: str = REPOSITORY) -> str:
    """Where GitHub Pages publishes the book: ``https://OWNER.github.io/NAME/``."""
    owner, name = owner_and_name(repository)
    return f"https://{owner.lower()}.github.io/{name}/"


def pip_requirement(repository: str = REPOSITORY, release: str = RELEASE) -> str:
    """The pip requirement that installs the released package from the home."""
    return f"memcomp @ git+{repository}@{release}"
