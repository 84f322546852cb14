"""Build the downstream example against the *installed* expmix.

    python setup.py build_ext --inplace

expmix.get_include() gives the directories of expmix.h and of the expmix
package (core.pxd); nothing from expmix is linked.  OpenMP (for prange) is
used when the compiler has it; set FIT_MANY_NO_OPENMP=1 to build without it
(the loop then runs serially with the same results).
"""
import os
import sys

import expmix
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class BuildExt(build_ext):
    def build_extensions(self):
        if os.environ.get("FIT_MANY_NO_OPENMP", "") not in ("", "0"):
            flags = ([], [])
        elif self.compiler.compiler_type == "msvc":
            flags = (["/openmp"], [])
        elif sys.platform == "darwin":
            flags = (["-Xpreprocessor", "-fopenmp"], ["-lomp"])
        else:
            flags = (["-fopenmp"], ["-fopenmp"])
        for ext in self.extensions:
            ext.extra_compile_args = list(flags[0])
            ext.extra_link_args = list(flags[1])
        super().build_extensions()


ext = Extension("fit_many", ["fit_many.pyx"], include_dirs=expmix.get_include())
setup(
    name="expmix-fit-many-example",
    ext_modules=cythonize([ext], include_path=expmix.get_include(), language_level=3),
    cmdclass={"build_ext": BuildExt},
)
