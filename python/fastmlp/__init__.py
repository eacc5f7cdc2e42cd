"""fastmlp: dense feed-forward neural networks on a C++/Eigen engine."""
from . import _core
from .errors import DivergenceError, FormatError

__version__ = _core.__version__
__all__ = ["DivergenceError", "FormatError", "__version__"]
