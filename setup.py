"""Build of the expmix extension: the C core (csrc/) and its Cython bridge.

OpenMP is used when the compiler supports it: -fopenmp (gcc, clang), /openmp
(MSVC), -Xpreprocessor -fopenmp -lomp (Apple clang with libomp).  Set
EXPMIX_NO_OPENMP=1 to build without it (everything then runs single-threaded,
with the same results).  The build never uses -march=native: the shipped code
runs on any x86-64.
"""
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from concurrent.futures import ThreadPoolExecutor

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

from Cython.Build import cythonize

# em_dispatch_avx2.c / em_dispatch_avx512.c select their ISA with a target
# pragma (gcc/clang on x86-64) and compile to nothing elsewhere, so every
# source takes the same flags; see csrc/em_dispatch.h.
CSRC = ["csrc/pass.c", "csrc/fit.c", "csrc/em_dispatch.c", "csrc/em_dispatch_avx2.c",
        "csrc/em_dispatch_avx512.c", "csrc/batch.c", "csrc/init.c"]


def _truthy(name):
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _try_compile(compiler, cflags, ldflags):
    """Whether a tiny OpenMP program compiles and links with these flags."""
    tmp = tempfile.mkdtemp(prefix="expmix-omp-")
    try:
        src = os.path.join(tmp, "t.c")
        with open(src, "w") as f:
            f.write("#include <omp.h>\nint main(void){int n=0;\n"
                    "#pragma omp parallel reduction(+:n)\nn+=1;\nreturn omp_get_max_threads()<1||n<1;}\n")
        objs = compiler.compile([src], output_dir=tmp, extra_postargs=cflags)
        compiler.link_executable(objs, os.path.join(tmp, "t"), extra_postargs=ldflags)
        return True
    except Exception:
        return False
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _build_jobs():
    """Parallel compile jobs: EXPMIX_BUILD_JOBS, else the CPUs available."""
    env = os.environ.get("EXPMIX_BUILD_JOBS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


class BuildExt(build_ext):
    def build_extensions(self):
        ctype = self.compiler.compiler_type
        if ctype == "msvc":
            base = ["/O2", "/fp:precise"]
            omp_c, omp_l = ["/openmp"], []
        else:
            base = ["-O3", "-std=gnu11", "-fno-math-errno", "-fno-trapping-math",
                    "-Wno-unused-function"]
            if sys.platform == "darwin":
                omp_c, omp_l = ["-Xpreprocessor", "-fopenmp"], ["-lomp"]
            else:
                omp_c, omp_l = ["-fopenmp"], ["-fopenmp"]
        use_omp = not _truthy("EXPMIX_NO_OPENMP")
        if use_omp and not _try_compile(self.compiler, omp_c, omp_l):
            print("*" * 72 + "\nexpmix: the C compiler does not support OpenMP with flags "
                  f"{omp_c} {omp_l};\nbuilding single-threaded (results are identical, "
                  "only slower).\nSet EXPMIX_NO_OPENMP=1 to silence this message.\n" + "*" * 72,
                  file=sys.stderr)
            use_omp = False
        elif not use_omp:
            print("expmix: EXPMIX_NO_OPENMP set: building without OpenMP", file=sys.stderr)
        cflags = base + (omp_c if use_omp else [])
        for ext in self.extensions:
            ext.extra_compile_args = cflags
            ext.extra_link_args = omp_l if use_omp else []
        self._compile_core_once(cflags)
        # the two Cython modules' own C files compile in parallel too
        if self.parallel is None:
            self.parallel = _build_jobs()
        super().build_extensions()

    def _compile_core_once(self, cflags):
        """Compile the C core (CSRC) once, on _build_jobs() threads, and link
        its objects into both extensions (they share the same sources and
        flags).  The costly CPU-dispatched kernels go first."""
        exts = [e for e in self.extensions if any(s in CSRC for s in e.sources)]
        if not exts:
            return
        ext = exts[0]
        srcs = sorted(CSRC, key=lambda s: ("avx512" not in s, "avx2" not in s, "dispatch" not in s))
        out = os.path.join(self.build_temp, "expmix-core")

        def one(src):
            return self.compiler.compile([src], output_dir=out, include_dirs=ext.include_dirs,
                                         macros=ext.define_macros, extra_postargs=cflags,
                                         depends=ext.depends, debug=self.debug)

        with ThreadPoolExecutor(max_workers=_build_jobs()) as pool:
            objs = [o for objs in pool.map(one, srcs) for o in objs]
        for e in exts:
            e.sources = [s for s in e.sources if s not in CSRC]
            e.extra_objects = objs + list(e.extra_objects or [])


extensions = [
    Extension(
        "expmix._core",
        sources=["src/expmix/_core.pyx"] + CSRC,
        include_dirs=["csrc"],
        depends=["csrc/expmix.h", "csrc/em_internal.h", "csrc/em_vmath.h", "csrc/em_dispatch.h",
                 "csrc/em_kernel_exact.h", "csrc/em_kernel_exact_avx512.h",
                 "csrc/em_vmath_avx512.h", "csrc/em_batch.h", "csrc/em_init.h",
                 "csrc/em_kernel_interval.h", "csrc/em_kernel_trunc.h",
                 "csrc/em_kernel_exact_avx2.h", "csrc/em_vmath_avx2.h",
                 "csrc/em_kernel_interval_avx512.h", "csrc/em_kernel_trunc_avx512.h"],
    )
]

# expmix.core: the public Cython API (from expmix cimport core).  It compiles
# the same C sources, include dirs and libraries as expmix._core into its own
# module, whose cdef functions Cython exports through C-API capsules, so a
# downstream extension links against nothing.  The public header is copied
# into the package (src/expmix/include/, git-ignored) so that wheels, sdists
# and editable installs all ship it; expmix.get_include() points there.
PUBLIC_HEADERS = ["csrc/expmix.h"]


def _copy_public_headers():
    dest = os.path.join("src", "expmix", "include")
    for h in PUBLIC_HEADERS:
        if not os.path.exists(h):       # building from an sdist that has only the copy
            continue
        os.makedirs(dest, exist_ok=True)
        target = os.path.join(dest, os.path.basename(h))
        with open(h, "rb") as f:
            new = f.read()
        old = None
        if os.path.exists(target):
            with open(target, "rb") as f:
                old = f.read()
        if old != new:
            with open(target, "wb") as f:
                f.write(new)


_copy_public_headers()
_base = next(e for e in extensions if e.name == "expmix._core")
extensions.append(Extension(
    "expmix.core",
    sources=["src/expmix/core.pyx"] + [s for s in _base.sources if not s.endswith(".pyx")],
    include_dirs=list(_base.include_dirs),
    depends=list(_base.depends),
    define_macros=list(_base.define_macros),
    libraries=list(_base.libraries),
    library_dirs=list(_base.library_dirs),
    extra_objects=list(_base.extra_objects),
    extra_compile_args=list(_base.extra_compile_args),
    extra_link_args=list(_base.extra_link_args),
))

setup(
    ext_modules=cythonize(extensions, language_level=3,
                          compiler_directives={"embedsignature": True}),
    cmdclass={"build_ext": BuildExt},
)
