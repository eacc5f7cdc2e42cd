"""``python -m fastmlp``: the same command line as the ``fastmlp`` console script."""
from .cli import main

raise SystemExit(main())
