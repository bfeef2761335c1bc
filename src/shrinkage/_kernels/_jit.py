"""Lazy numba: the ``njit``, ``prange`` (and thread id) kernel modules declare their kernels with.

Importing numba costs about 0.3 s, and its first dispatch in a process about 0.4 s more (numba
loads its typing and target registries then), whatever the kernel. A user who imports shrinkage,
or fits only a small dense problem (solved without numba, see :mod:`shrinkage.solvers.homotopy`),
should not pay either. So a kernel declared here is a :class:`LazyKernel` until the first call of
any kernel: that call imports numba, makes every declared kernel a numba dispatcher with its own
options (``cache=True`` finds the same on-disk cache entries as an eager ``numba.njit``), and
rebinds the package's module globals to the dispatchers, so that a kernel calling another one sees
a dispatcher when it compiles. The numba functions a kernel calls by name (``prange``,
``get_thread_id``) are stand-ins until then and are rebound the same way.
Modules imported after that get dispatchers and numba's functions directly (this module's names
are rebound too).
"""

import sys
import threading

_PACKAGE = __name__.split(".")[0]
_lock = threading.Lock()
_numba = None  # the numba module, once activated
_declared = []  # LazyKernel objects not yet made dispatchers


class _LazyNumbaName:
    """Stand-in for the numba function ``name`` in kernel modules until numba is imported (then
    rebound); called before that (a kernel's pure-Python run), it does what the function does on one
    thread."""

    def __init__(self, name, serial):
        self.name = name
        self._serial = serial

    def __call__(self, *args):
        return self._serial(*args)

    def __repr__(self):
        return f"<lazy numba.{self.name}>"


# what modules imported before activation hold; activate() rebinds these names to numba's functions
prange = _LazyNumbaName("prange", range)
get_thread_id = _LazyNumbaName("get_thread_id", lambda: 0)


class LazyKernel:
    """A kernel before numba is imported: calls and attribute reads go to its dispatcher, which the
    first use of any kernel creates."""

    def __init__(self, py_func, options):
        self.py_func = py_func
        self.options = options
        self.dispatcher = None
        self.__name__ = py_func.__name__
        self.__qualname__ = py_func.__qualname__
        self.__module__ = py_func.__module__
        self.__doc__ = py_func.__doc__
        self.__wrapped__ = py_func

    def __call__(self, *args, **kwargs):
        dispatcher = self.dispatcher
        if dispatcher is None:
            activate()
            dispatcher = self.dispatcher
        return dispatcher(*args, **kwargs)

    def __getattr__(self, name):  # stats, signatures, ... of the dispatcher
        if name.startswith("__"):
            raise AttributeError(name)
        if self.dispatcher is None:
            activate()
        return getattr(self.dispatcher, name)

    def __reduce__(self):  # by reference: the module's kernel of that name in the loading process
        return _kernel_named, (self.__module__, self.__qualname__)

    def __repr__(self):
        state = "numba not imported yet" if self.dispatcher is None else repr(self.dispatcher)
        return f"<kernel {self.__module__}.{self.__qualname__}: {state}>"


def _kernel_named(module, qualname):
    """The kernel ``module.qualname`` (a LazyKernel or, once numba is imported, a dispatcher)."""
    import importlib

    return getattr(importlib.import_module(module), qualname)


def njit(*args, **options):
    """``numba.njit`` with keyword options only, deferred as described in the module docstring."""
    if len(args) == 1 and callable(args[0]) and not options:
        return _declare(args[0], {})
    if args:
        raise TypeError("shrinkage kernels take njit's keyword options only (no signatures)")
    return lambda func: _declare(func, options)


def _declare(func, options):
    if _numba is not None:
        return _numba.njit(**options)(func)
    kernel = LazyKernel(func, options)
    with _lock:
        if _numba is None:
            _declared.append(kernel)
            return kernel
    return _numba.njit(**options)(func)


def activate():
    """Import numba and turn every declared kernel into a dispatcher (idempotent); returns numba."""
    global _numba, prange, get_thread_id
    if _numba is not None:
        return _numba
    with _lock:
        if _numba is not None:
            return _numba
        import numba

        for kernel in _declared:
            kernel.dispatcher = numba.njit(**kernel.options)(kernel.py_func)
        # rebind before publishing: a kernel compiled from now on resolves its callees (and
        # prange, ...) from its module globals
        for name, module in list(sys.modules.items()):
            if module is None or not (name == _PACKAGE or name.startswith(_PACKAGE + ".")):
                continue
            if name == __name__:  # this module's own names are its bookkeeping, set below
                continue
            namespace = vars(module)
            for key, value in list(namespace.items()):
                if isinstance(value, LazyKernel) and value.dispatcher is not None:
                    namespace[key] = value.dispatcher
                elif isinstance(value, _LazyNumbaName):
                    namespace[key] = getattr(numba, value.name)
        _declared.clear()
        # for kernel modules imported after this point
        prange, get_thread_id = numba.prange, numba.get_thread_id
        _numba = numba
    return numba


def is_active():
    """Whether numba has been imported by a kernel call (for tests and diagnostics)."""
    return _numba is not None
