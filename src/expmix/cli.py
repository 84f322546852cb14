"""The ``expmix`` command line (also ``python -m expmix``).

Sub-commands::

    expmix fit DATA [--column NAME] [--k 3 | --k 1-6] [--criterion bic] ...
    expmix simulate --weights 0.3,0.7 --rates 10,1 --n 1000 [-o OUT]
    expmix plot DATA (--model MODEL.json | --k K) -o OUT.png

Exit codes: 0 success; 1 out of memory; 2 bad command line; 3 a file or
column cannot be read; 4 the data are not valid for the fit (negative, NaN,
...); 5 the fit failed (every restart degenerated); 130 interrupted.  User
errors (including a bad command line) print one line ``expmix: error: ...``
on stderr, never a traceback.
"""
from __future__ import annotations

import argparse
import csv
import io as _io
import json
import os
import sys
import time
import warnings
from typing import Any, Dict, List, Mapping, NoReturn, Optional, Sequence, TextIO, Tuple

import numpy as np

__all__ = ["main", "read_columns", "CLIError"]

EXIT_OK, EXIT_MEMORY, EXIT_USAGE, EXIT_INPUT, EXIT_DATA, EXIT_FIT = 0, 1, 2, 3, 4, 5


class CLIError(Exception):
    """A user error: printed as one line, with an exit code."""

    def __init__(self, message: str, code: int = EXIT_INPUT):
        super().__init__(message)
        self.code = code


# ----------------------------------------------------------------------
# reading data

def _parse_float(s: str) -> float:
    t = s.strip()
    low = t.lower()
    if low in ("inf", "+inf", "infinity", "+infinity"):
        return float("inf")
    return float(t)


def _read_text(path: str, text: str) -> Dict[str, np.ndarray]:
    lines = [(i + 1, ln) for i, ln in enumerate(text.splitlines())
             if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise CLIError(f"{path}: the file has no data rows")
    first = lines[0][1]
    ext = os.path.splitext(path)[1].lower()
    if ext == ".tsv" or "\t" in first:
        delim: Optional[str] = "\t"
    elif "," in first:
        delim = ","
    elif ";" in first:
        delim = ";"
    elif len(first.split()) > 1:
        delim = None          # whitespace
    else:
        delim = ","           # one value per line
    def split(ln: str) -> List[str]:
        if delim is None:
            return ln.split()
        return next(csv.reader([ln], delimiter=delim))
    head = [c.strip() for c in split(first)]
    try:
        [_parse_float(c) for c in head]
        names = [str(j) for j in range(len(head))] if len(head) > 1 else ["x"]
        body = lines
    except ValueError:
        names = [c if c else str(j) for j, c in enumerate(head)]
        body = lines[1:]
        if len(set(names)) != len(names):
            raise CLIError(f"{path}: duplicate column names in the header {names}")
    if not body:
        raise CLIError(f"{path}: the file has a header but no data rows")
    # fast path (numpy's C parser) for all-numeric files; on any problem, fall
    # back to the cell-by-cell reader below, which says where the problem is
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            arr = np.loadtxt(_io.StringIO(text), delimiter=delim, comments="#",
                             skiprows=lines[0][0] if body is not lines else 0,
                             ndmin=2, dtype=np.float64)
        if arr.shape == (len(body), len(names)):
            return {name: arr[:, j] for j, name in enumerate(names)}
    except ValueError:
        pass
    cols: List[List[str]] = [[] for _ in names]
    for lineno, ln in body:
        cells = split(ln)
        if len(cells) != len(names):
            raise CLIError(f"{path}, line {lineno}: expected {len(names)} fields "
                           f"({', '.join(names)}), found {len(cells)}")
        for j, c in enumerate(cells):
            cols[j].append(c)
    out: Dict[str, np.ndarray] = {}
    for name, raw in zip(names, cols):
        out[name] = _StrColumn(path, name, raw, [ln for ln, _ in body])  # type: ignore[assignment]
    return out


class _StrColumn:
    """A text column converted to numbers only when used (so a non-numeric
    column that is not asked for does no harm)."""

    def __init__(self, path: str, name: str, raw: List[str], linenos: List[int]):
        self.path, self.name, self.raw, self.linenos = path, name, raw, linenos

    def values(self) -> np.ndarray:
        out = np.empty(len(self.raw))
        for i, c in enumerate(self.raw):
            try:
                out[i] = _parse_float(c)
            except ValueError:
                raise CLIError(f"{self.path}, line {self.linenos[i]}, column {self.name!r}: "
                               f"cannot read {c.strip()!r} as a number") from None
        return out


def read_columns(path: str) -> Dict[str, Any]:
    """Read a data file into named columns.

    Formats (by extension): ``.npy`` (1-D: one column ``x``; 2-D: columns
    ``0, 1, ...``; structured: its fields), ``.parquet`` / ``.pq`` (needs
    pyarrow), anything else as text: CSV, TSV, ``;``- or whitespace-separated,
    or one number per line; a first row that is not numeric is the header,
    ``#`` starts a comment line.  ``-`` reads text from standard input.
    """
    ext = os.path.splitext(path)[1].lower()
    if path != "-" and not os.path.exists(path):
        raise CLIError(f"{path}: no such file")
    if path != "-" and os.path.isdir(path):
        raise CLIError(f"{path}: is a directory, not a data file")
    if ext == ".npy":
        try:
            with open(path, "rb") as fh:
                magic = fh.read(6)
        except OSError as e:
            raise CLIError(f"{path}: cannot read ({e.strerror})") from None
        if magic != b"\x93NUMPY":
            raise CLIError(f"{path}: not a readable .npy file (no NumPy header; text data "
                           "need another extension, e.g. .csv or .txt)")
        try:
            a = np.load(path, allow_pickle=False)
        except (ValueError, OSError) as e:
            raise CLIError(f"{path}: not a readable .npy file ({e})") from None
        if a.dtype.names:
            return {n: np.asarray(a[n]) for n in a.dtype.names}
        if a.ndim == 1:
            return {"x": a}
        if a.ndim == 2:
            return {str(j): a[:, j] for j in range(a.shape[1])}
        raise CLIError(f"{path}: a .npy array must be 1-D or 2-D, got shape {a.shape}")
    if ext in (".parquet", ".pq"):
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise CLIError(f"{path}: reading Parquet needs pyarrow "
                           "(pip install 'expmix[parquet]')") from None
        try:
            t = pq.read_table(path)
        except Exception as e:  # pyarrow raises its own error types
            raise CLIError(f"{path}: not a readable Parquet file ({e})") from None
        return {n: t.column(n).to_numpy(zero_copy_only=False) for n in t.column_names}
    try:
        if path == "-":
            text = sys.stdin.read()
        else:
            with open(path, "r", encoding="utf-8-sig") as f:
                text = f.read()
    except UnicodeDecodeError:
        raise CLIError(f"{path}: not a text file (and not .npy or .parquet by its "
                       "extension)") from None
    except OSError as e:
        raise CLIError(f"{path}: cannot read ({e.strerror})") from None
    return _read_text(path, text)


def _column(cols: Mapping[str, Any], name: Optional[str], path: str, what: str = "--column"
            ) -> np.ndarray:
    if name is None:
        if len(cols) == 1:
            name = next(iter(cols))
        else:
            raise CLIError(f"{path} has {len(cols)} columns ({', '.join(cols)}); choose one "
                           f"with {what} NAME", EXIT_USAGE)
    if name not in cols:
        raise CLIError(f"{path}: no column {name!r} (columns: {', '.join(cols)})")
    c = cols[name]
    if isinstance(c, _StrColumn):
        return c.values()
    a = np.asarray(c)
    if a.dtype.kind == "b":
        return a.astype(np.float64)
    if a.dtype.kind not in "iuf":
        raise CLIError(f"{path}: column {name!r} is not numeric (dtype {a.dtype})")
    return a.astype(np.float64)


def _parse_k(s: str) -> List[int]:
    from ._core import MAX_COMPONENTS
    try:
        ks: List[int] = []
        for part in s.split(","):
            if "-" in part.strip()[1:]:        # a range a-b (a leading '-' is a sign)
                a, b = part.strip()[1:].split("-", 1)
                lo, hi = int(part.strip()[0] + a), int(b)
                if lo > hi:
                    raise argparse.ArgumentTypeError(
                        f"--k range {part.strip()!r} is empty (write the smaller number first)")
                # bound before expanding: a range like 1-100000000 must not build a list
                if lo < 1 or hi > MAX_COMPONENTS:
                    raise argparse.ArgumentTypeError(
                        f"--k values must be between 1 and {MAX_COMPONENTS}, got {s!r}")
                ks.extend(range(lo, hi + 1))
            else:
                ks.append(int(part))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--k must be an int, a range like 1-6, or a list "
                                         f"like 1,2,4; got {s!r}") from None
    if not ks or min(ks) < 1:
        raise argparse.ArgumentTypeError(f"--k values must be >= 1, got {s!r}")
    if max(ks) > MAX_COMPONENTS:
        raise argparse.ArgumentTypeError(
            f"--k values must be between 1 and {MAX_COMPONENTS}, got {s!r}")
    return sorted(set(ks))


def _floats(s: str) -> List[float]:
    try:
        return [float(v) for v in s.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {s!r}") from None


# ----------------------------------------------------------------------
# output

def _components_table(model: Any) -> str:
    K = int(model.n_components)
    se_cols: Dict[str, np.ndarray] = {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # singular information: NaN SEs are shown as nan
            se = model.standard_errors_
    except (AttributeError, ValueError, FloatingPointError):
        se = None        # e.g. a loaded model without saved standard errors
    for col in ("weights", "rates", "means"):
        v = getattr(se, col, None)
        if v is not None and np.shape(v) == (K,):
            se_cols[col] = np.asarray(v, dtype=float)
    hdr = f"{'k':>3} {'weight':>12}"
    if "weights" in se_cols:
        hdr += f" {'SE':>10}"
    hdr += f" {'rate':>14}"
    if "rates" in se_cols:
        hdr += f" {'SE':>12}"
    hdr += f" {'mean':>14}"
    if "means" in se_cols:
        hdr += f" {'SE':>12}"
    lines = [hdr]
    for k in range(K):
        ln = f"{k:>3} {model.weights_[k]:>12.6f}"
        if "weights" in se_cols:
            ln += f" {se_cols['weights'][k]:>10.2g}"
        ln += f" {model.rates_[k]:>14.6g}"
        if "rates" in se_cols:
            ln += f" {se_cols['rates'][k]:>12.3g}"
        ln += f" {model.means_[k]:>14.6g}"
        if "means" in se_cols:
            ln += f" {se_cols['means'][k]:>12.3g}"
        lines.append(ln)
    return "\n".join(lines)


def _entropy(obs: Any, w: np.ndarray, mu: np.ndarray) -> float:
    from .inference import entropy
    return float(entropy(obs, w, mu))


def _information_criteria(ll: float, K: int, n: float, ent: float) -> Dict[str, float]:
    from .selection import information_criteria
    return information_criteria(ll, K, n, ent)


def _criteria_table(rows: Sequence[Mapping[str, Any]], best: int, criterion: str) -> str:
    crit_cols = [c for c in CLI_CRITERIA if c in rows[0]]
    hdr = f"  {'K':>2} {'log-likelihood':>18} {'params':>6} " + \
        " ".join(f"{c.upper():>14}" for c in crit_cols) + "  status"
    lines = [hdr]
    for r in rows:
        mark = " *" if r["n_components"] == best else "  "
        vals = " ".join(f"{float(r[c]):>14.4f}" for c in crit_cols)
        lines.append(f"{mark}{r['n_components']:>2d} {float(r['log_likelihood']):>18.6f} "
                     f"{int(r['n_parameters']):>6d} {vals}  {r['status']}")
    lines.append(f"(* = selected by {criterion.upper()})")
    return "\n".join(lines)


class _Progress:
    """Status on stderr for long selections: tqdm if installed, else one line
    per step; only when stderr is a terminal (or forced) and not --quiet."""

    def __init__(self, total: int, enabled: bool, desc: str):
        self.enabled = enabled
        self.bar = None
        self.t0 = time.perf_counter()
        self.total, self.done, self.desc = total, 0, desc
        if enabled:
            try:
                from tqdm import tqdm
                self.bar = tqdm(total=total, desc=desc, file=sys.stderr, leave=False)
            except ImportError:
                self.bar = None

    def step(self, msg: str) -> None:
        self.done += 1
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.set_postfix_str(msg)
            self.bar.update(1)
        else:
            print(f"[expmix] {self.desc} {self.done}/{self.total}: {msg} "
                  f"({time.perf_counter() - self.t0:.1f} s)", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


# ----------------------------------------------------------------------
# fit

class _Selection:
    """What plot_criteria needs: table, best_n_components_, criterion."""

    def __init__(self, table: List[Dict[str, Any]], best: int, criterion: str):
        self.table, self.best_n_components_, self.criterion = table, best, criterion


def _load_fit_inputs(args: argparse.Namespace) -> Tuple[str, Dict[str, Any]]:
    cols = read_columns(args.data)
    p = args.data
    kw: Dict[str, Any] = {}
    if args.histogram:
        names = list(cols)
        lo_name = args.lower_column or (names[0] if len(names) >= 3 else None)
        hi_name = args.upper_column or (names[1] if len(names) >= 3 else None)
        ct_name = args.count_column or (names[2] if len(names) >= 3 else None)
        if lo_name is None or hi_name is None or ct_name is None:
            raise CLIError(f"{p}: --histogram needs three columns (lower edge, upper edge, "
                           f"count); the file has {len(names)} ({', '.join(names)})")
        kw["lower"] = _column(cols, lo_name, p, "--lower-column")
        kw["upper"] = _column(cols, hi_name, p, "--upper-column")
        kw["sample_weight"] = _column(cols, ct_name, p, "--count-column")
        kind = "intervals"
    else:
        kw["X"] = _column(cols, args.column, p)
        if args.weights_column:
            kw["sample_weight"] = _column(cols, args.weights_column, p, "--weights-column")
        if args.censor_column:
            c = _column(cols, args.censor_column, p, "--censor-column")
            if not np.isin(c, (0, 1)).all():
                raise CLIError(f"{p}: column {args.censor_column!r} must hold 0/1 "
                               "(1 = right-censored)", EXIT_DATA)
            kw["event_observed"] = c == 0
        if args.event_column:
            c = _column(cols, args.event_column, p, "--event-column")
            if not np.isin(c, (0, 1)).all():
                raise CLIError(f"{p}: column {args.event_column!r} must hold 0/1 "
                               "(1 = event observed)", EXIT_DATA)
            kw["event_observed"] = c == 1
        kind = "samples"
    if args.entry is not None:
        kw["entry"] = args.entry
    elif args.entry_column:
        if args.histogram:
            raise CLIError("--entry-column cannot be used with --histogram (use --entry)",
                           EXIT_USAGE)
        kw["entry"] = _column(cols, args.entry_column, p, "--entry-column")
    return kind, kw


def _fit_one(kind: str, kw: Dict[str, Any], K: int, opts: Dict[str, Any]) -> Any:
    from .mixture import ExponentialMixture
    m = ExponentialMixture(K, **opts)
    if kind == "intervals":
        return m.fit_intervals(kw["lower"], kw["upper"], kw.get("sample_weight"),
                               entry=kw.get("entry"))
    return m.fit(kw["X"], None, kw.get("sample_weight"), event_observed=kw.get("event_observed"),
                 entry=kw.get("entry"))


#: Criteria the fit command computes for each K (from the log-likelihood, p = 2K - 1
#: and n = the total weight, exactly as expmix.select_components does).
CLI_CRITERIA = ("bic", "aic", "aicc", "icl")


def _cmd_fit(args: argparse.Namespace) -> int:
    from .exceptions import DegenerateFitError
    criterion = args.criterion.lower()
    if criterion not in CLI_CRITERIA:
        raise CLIError(f"--criterion must be one of {', '.join(CLI_CRITERIA)}, got "
                       f"{args.criterion!r}", EXIT_USAGE)
    kind, kw = _load_fit_inputs(args)
    opts = dict(n_init=args.n_init, random_state=args.seed, max_iter=args.max_iter, tol=args.tol)
    ks: List[int] = args.k
    show = not args.quiet and (args.progress or (len(ks) > 1 and sys.stderr.isatty()))
    prog = _Progress(len(ks), show, "fitting K")
    models: Dict[int, Any] = {}
    table: List[Dict[str, Any]] = []
    n_weight = None
    caught: List[str] = []
    n_rows = (kw["lower"] if kind == "intervals" else kw["X"]).shape[0]
    if n_rows == 0:
        raise CLIError(f"{args.data}: the data have no observations", EXIT_DATA)
    try:
        for K in ks:
            if K > n_rows and len(ks) > 1:
                table.append(dict(n_components=K, log_likelihood=np.nan,
                                  n_parameters=2 * K - 1, bic=np.nan, aic=np.nan,
                                  aicc=np.nan, icl=np.nan, converged=False,
                                  status="skipped (K > number of observations)"))
                prog.step(f"K={K} skipped")
                continue
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                try:
                    m = _fit_one(kind, kw, K, opts)
                except DegenerateFitError as e:
                    table.append(dict(n_components=K, log_likelihood=np.nan,
                                      n_parameters=2 * K - 1, bic=np.nan, aic=np.nan,
                                      aicc=np.nan, icl=np.nan, converged=False,
                                      status="degenerate"))
                    if len(ks) == 1:
                        raise CLIError(str(e), EXIT_FIT) from None
                    prog.step(f"K={K} degenerate")
                    continue
            caught.extend(f"K={K}: {x.message}" for x in w)
            n_weight = m.total_weight_
            ll, p = m.log_likelihood_, m.n_parameters_
            # the criteria of select_components (ICL: BIC + 2 x entropy of the
            # responsibilities of the fitted data, any kind)
            ent = _entropy(m._obs, m.weights_, m.rates_) if K > 1 else 0.0
            crit = _information_criteria(ll, K, n_weight, ent)
            table.append(dict(n_components=K, log_likelihood=ll, n_parameters=p,
                              converged=m.converged_, status=m.status_, **crit))
            models[K] = m
            prog.step(f"K={K} logL={ll:.6g}")
    finally:
        prog.close()
    if not models:
        raise CLIError("no number of components gave a usable fit (every K degenerated); "
                       "if the data are rounded, fit them as intervals", EXIT_FIT)
    best_row = min((r for r in table if r["n_components"] in models), key=lambda r: r[criterion])
    best = models[best_row["n_components"]]
    # with --json -, stdout carries only the JSON and the tables go to stderr
    out = sys.stderr if args.json == "-" else sys.stdout
    if not args.quiet:
        for msg in caught:
            print(f"expmix: warning: {msg}", file=sys.stderr)
    print(f"data: {args.data}  ({best.n_observations_} observations, total weight "
          f"{best.total_weight_:g}, kinds: {', '.join(best.data_kinds_)})", file=out)
    print(f"\nselected K = {best.n_components}  (log-likelihood {best.log_likelihood_:.6f}, "
          f"{'converged' if best.converged_ else 'NOT converged: ' + best.status_}, "
          f"{best.n_iter_} iterations)\n", file=out)
    print(_components_table(best), file=out)
    print("\n" + _criteria_table(table, best.n_components, criterion), file=out)
    if args.json:
        report = {"data": args.data, "criterion": criterion,
                  "selected_n_components": int(best.n_components),
                  "table": [{k: (None if isinstance(v, float) and not np.isfinite(v) else
                                 (bool(v) if isinstance(v, (bool, np.bool_)) else
                                  (float(v) if isinstance(v, (float, np.floating)) else v)))
                             for k, v in r.items()} for r in table],
                  "model": best.to_dict()}
        _write_text(args.json, json.dumps(report, indent=1, allow_nan=False) + "\n")
    if args.save:
        try:
            best.save(args.save)
        except OSError as e:   # expmix.io's own messages (directory ...) have no strerror
            raise CLIError(f"{args.save}: cannot write ({e.strerror})" if e.strerror
                           else str(e)) from None
    if args.plot:
        binned = None
        if kind == "intervals":
            lo, hi, ct = kw["lower"], kw["upper"], kw["sample_weight"]
            o = np.argsort(lo, kind="stable")
            if np.array_equal(hi[o][:-1], lo[o][1:]):          # contiguous bins
                binned = (np.append(lo[o], hi[o][-1]), ct[o])
        _plot_file(args.plot, best, kw.get("X"), kw.get("event_observed"), kw.get("entry"),
                   _Selection(table, best.n_components, criterion) if len(ks) > 1 else None,
                   binned=binned)
    return EXIT_OK


def _write_text(path: str, text: str) -> None:
    if path == "-":
        sys.stdout.write(text)
        return
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as e:
        raise CLIError(f"{path}: cannot write ({e.strerror})") from None


def _plot_file(path: str, model: Any, x: Optional[np.ndarray], events: Optional[np.ndarray],
               entry: Any, selection: Any, kind: str = "auto",
               binned: Optional[Tuple[np.ndarray, np.ndarray]] = None) -> None:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise CLIError("--plot needs matplotlib (pip install 'expmix[plot]')", EXIT_USAGE) \
            from None
    from . import plotting
    if os.path.isdir(path):
        raise CLIError(f"{path}: is a directory; give the name of the image file to write")
    censored = events is not None and not np.all(events)
    scalar_entry = float(entry) if isinstance(entry, (int, float)) else None
    if kind == "auto":
        kind = "survival" if censored or x is None else "hist"
    n_ax = 2 if selection is not None else 1
    fig, axes = plt.subplots(1, n_ax, figsize=(6.4 * n_ax, 4.8), squeeze=False)
    if binned is not None:
        plotting.plot_survival(model, edges=binned[0], counts=binned[1], entry=scalar_entry,
                               ax=axes[0, 0])
    elif kind == "survival":
        plotting.plot_survival(model, x, event_observed=events, entry=scalar_entry,
                               ax=axes[0, 0])
    else:
        plotting.plot_histogram(model, x, ax=axes[0, 0])
    if selection is not None:
        plotting.plot_criteria(selection, ax=axes[0, 1])
    fig.tight_layout()
    try:
        fig.savefig(path, dpi=100)
    except (OSError, ValueError) as e:
        raise CLIError(f"{path}: cannot write the plot ({e})") from None
    finally:
        plt.close(fig)


# ----------------------------------------------------------------------
# simulate and plot

def _cmd_simulate(args: argparse.Namespace) -> int:
    from .mixture import ExponentialMixture
    if args.model:
        m = _load_model(args.model)
    else:
        if args.weights is None or args.rates is None:
            raise CLIError("simulate needs --weights and --rates (or --model FILE)", EXIT_USAGE)
        w, mu = np.asarray(args.weights, float), np.asarray(args.rates, float)
        if w.shape != mu.shape:
            raise CLIError(f"--weights has {w.size} values but --rates has {mu.size}", EXIT_USAGE)
        if np.any(~np.isfinite(w)) or np.any(w <= 0) or np.any(~np.isfinite(mu)) or \
                np.any(mu <= 0):
            raise CLIError("--weights and --rates must be finite and positive", EXIT_USAGE)
        order = np.argsort(-mu, kind="stable")
        m = ExponentialMixture(int(w.size))
        m.weights_, m.rates_ = w[order] / w.sum(), mu[order]
        m.means_ = 1.0 / m.rates_
    if args.n < 1:
        raise CLIError(f"--n must be >= 1, got {args.n}", EXIT_USAGE)
    rng = np.random.default_rng(args.seed)
    t0 = 0.0 if args.entry is None else float(args.entry)
    if t0 > 0:   # memorylessness: x | x > t0 is t0 + a draw from the re-weighted mixture
        wa = m.weights_above(t0)
        lab = rng.choice(m.weights_.size, size=args.n, p=wa)
        x = t0 + rng.standard_exponential(args.n) / m.rates_[lab]
    else:
        x, lab = m.sample(args.n, random_state=rng)
    cols: Dict[str, np.ndarray] = {"x": x}
    if args.censor_at is not None:
        cols["event"] = (x <= args.censor_at).astype(np.int64)
        cols["x"] = np.minimum(x, args.censor_at)
    if args.labels:
        cols["component"] = np.asarray(lab, dtype=np.int64)
    out = args.output or "-"
    ext = os.path.splitext(out)[1].lower()
    if ext == ".npy":
        if len(cols) > 1:
            raise CLIError("--output .npy holds one column; use .csv with --censor-at/--labels",
                           EXIT_USAGE)
        try:
            np.save(out, cols["x"])
        except OSError as e:
            raise CLIError(f"{out}: cannot write ({e.strerror})") from None
        return EXIT_OK
    buf = _io.StringIO()
    names = list(cols)
    sep = "\t" if ext == ".tsv" else ","
    header = sep.join(names) if len(names) > 1 or ext in (".csv", ".tsv") else ""
    fmt = ["%d" if cols[n].dtype.kind in "iu" else "%.17g" for n in names]
    np.savetxt(buf, np.column_stack([cols[n] for n in names]).astype(object), fmt=fmt,
               delimiter=sep, header=header, comments="")
    _write_text(out, buf.getvalue())
    return EXIT_OK


def _load_model(path: str) -> Any:
    from .io import ModelFileError, load
    try:
        m = load(path)
    except FileNotFoundError:
        raise CLIError(f"{path}: no such model file") from None
    except ModelFileError as e:
        raise CLIError(str(e)) from None
    except OSError as e:
        raise CLIError(f"{path}: cannot read the model file ({e.strerror})" if e.strerror
                       else str(e)) from None
    if not hasattr(m, "rates_"):
        raise CLIError(f"{path}: the model in this file is not fitted (it was saved before "
                       "fit)", EXIT_DATA)
    return m


def _cmd_plot(args: argparse.Namespace) -> int:
    cols = read_columns(args.data)
    x = _column(cols, args.column, args.data)
    events = None
    if args.censor_column:
        c = _column(cols, args.censor_column, args.data, "--censor-column")
        if not np.isin(c, (0, 1)).all():
            raise CLIError(f"{args.data}: column {args.censor_column!r} must hold 0/1 "
                           "(1 = right-censored)", EXIT_DATA)
        events = c == 0
    if args.model:
        m = _load_model(args.model)
    else:
        from .mixture import ExponentialMixture
        m = ExponentialMixture(args.k, n_init=args.n_init, random_state=args.seed)
        m.fit(x, event_observed=events, entry=args.entry)
    _plot_file(args.output, m, x, events, args.entry, None, kind=args.kind)
    return EXIT_OK


# ----------------------------------------------------------------------

class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error message (the usage, on one line, inside it)."""

    def error(self, message: str) -> "NoReturn":
        pos = [a.metavar or a.dest for a in self._actions
               if not a.option_strings and a.help != argparse.SUPPRESS]
        usage = " ".join([self.prog] + [str(p) for p in pos] + ["[options]"])
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (usage: {usage}; "
                  f"see {self.prog} --help)\n")


def _check_options(args: argparse.Namespace) -> None:
    """Numeric options, checked before any file is read; errors name the option."""
    from ._core import MAX_COMPONENTS
    from .mixture import MAX_ITER_LIMIT, N_INIT_LIMIT

    def bad(msg: str) -> CLIError:
        return CLIError(msg, EXIT_USAGE)
    n_init = getattr(args, "n_init", None)
    if n_init is not None and not 1 <= n_init <= N_INIT_LIMIT:
        raise bad(f"--n-init must be between 1 and {N_INIT_LIMIT}, got {n_init}")
    max_iter = getattr(args, "max_iter", None)
    if max_iter is not None and not 0 <= max_iter <= MAX_ITER_LIMIT:
        raise bad(f"--max-iter must be between 0 and {MAX_ITER_LIMIT}, got {max_iter}")
    tol = getattr(args, "tol", None)
    if tol is not None and not (np.isfinite(tol) and tol >= 0):
        raise bad(f"--tol must be a finite number >= 0, got {tol}")
    seed = getattr(args, "seed", None)
    if seed is not None and seed < 0:
        raise bad(f"--seed must be >= 0, got {seed}")
    entry = getattr(args, "entry", None)
    if entry is not None and not (np.isfinite(entry) and entry >= 0):
        raise bad(f"--entry must be a finite number >= 0, got {entry}")
    if args.command == "plot" and not 1 <= args.k <= MAX_COMPONENTS:
        raise bad(f"--k must be between 1 and {MAX_COMPONENTS}, got {args.k}")
    if args.command == "simulate":
        if not 1 <= args.n <= 2 ** 53:
            raise bad(f"--n must be between 1 and 2**53, got {args.n}")
        c = args.censor_at
        if c is not None and not c > 0:      # also NaN
            raise bad(f"--censor-at must be a number > 0 (inf: no censoring), got {c}")


def _parser() -> argparse.ArgumentParser:
    from ._version import __version__
    p = _Parser(prog="expmix", description="Fit mixtures of exponential "
                "distributions by maximum likelihood.")
    p.add_argument("--version", action="version", version=f"expmix {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    f = sub.add_parser("fit", help="fit a mixture (or choose K) and print the components",
                       description="Fit a mixture of exponentials to DATA (CSV/TSV, text with "
                       "one number a line, .npy, or Parquet) and print the components and "
                       "the criteria table.")
    f.add_argument("data", metavar="DATA", help="data file ('-' for standard input)")
    f.add_argument("--column", help="column of values (needed if the file has several)")
    f.add_argument("--k", type=_parse_k, default=[1, 2, 3, 4, 5, 6], metavar="K",
                   help="number of components: 3, a range 1-6 (default), or 1,2,4")
    f.add_argument("--criterion", default="bic",
                   help="criterion choosing K: bic, aic, aicc or icl (default bic)")
    g = f.add_mutually_exclusive_group()
    g.add_argument("--censor-column", metavar="NAME",
                   help="0/1 column, 1 = the value is a right-censoring time")
    g.add_argument("--event-column", metavar="NAME",
                   help="0/1 column, 1 = event observed (lifelines' convention)")
    e = f.add_mutually_exclusive_group()
    e.add_argument("--entry", type=float, metavar="VALUE",
                   help="common left-truncation (dead) time")
    e.add_argument("--entry-column", metavar="NAME", help="per-observation entry times")
    f.add_argument("--weights-column", metavar="NAME", help="frequency / sample weights")
    f.add_argument("--histogram", action="store_true",
                   help="DATA holds bins: lower edge, upper edge (may be inf), count")
    f.add_argument("--lower-column", metavar="NAME", help="with --histogram (default: 1st)")
    f.add_argument("--upper-column", metavar="NAME", help="with --histogram (default: 2nd)")
    f.add_argument("--count-column", metavar="NAME", help="with --histogram (default: 3rd)")
    f.add_argument("--n-init", type=int, default=4, metavar="N", help="restarts (default 4)")
    f.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default 0)")
    f.add_argument("--max-iter", type=int, default=1000, help=argparse.SUPPRESS)
    f.add_argument("--tol", type=float, default=1e-10, help=argparse.SUPPRESS)
    f.add_argument("--json", metavar="OUT", help="write a JSON report (table and model); "
                   "'-' = standard output (the tables then go to stderr)")
    f.add_argument("--save", metavar="MODEL.json", help="save the selected model (expmix.load)")
    f.add_argument("--plot", metavar="OUT.png", help="save a plot of the fit")
    f.add_argument("--quiet", "-q", action="store_true", help="no progress, no warnings")
    f.add_argument("--progress", action="store_true",
                   help="status lines on stderr even when it is not a terminal")
    f.set_defaults(func=_cmd_fit)

    s = sub.add_parser("simulate", help="draw data from a mixture",
                       description="Write N draws from a mixture (CSV/TSV/text/.npy by the "
                       "output extension; standard output by default).")
    s.add_argument("--weights", type=_floats, help="comma-separated weights, e.g. 0.3,0.7")
    s.add_argument("--rates", type=_floats, help="comma-separated rates, e.g. 10,1")
    s.add_argument("--model", metavar="MODEL.json", help="draw from a saved model instead")
    s.add_argument("--n", type=int, default=1000, help="number of draws (default 1000)")
    s.add_argument("--seed", type=int, default=None)
    s.add_argument("--censor-at", type=float, metavar="C",
                   help="right-censor at C (adds a 0/1 'event' column)")
    s.add_argument("--entry", type=float, metavar="T", help="only values above a dead time T")
    s.add_argument("--labels", action="store_true", help="add the component of each draw")
    s.add_argument("--output", "-o", metavar="OUT", help="output file (default stdout)")
    s.set_defaults(func=_cmd_simulate)

    q = sub.add_parser("plot", help="plot data with a fitted or saved model")
    q.add_argument("data", metavar="DATA")
    q.add_argument("--column")
    q.add_argument("--censor-column", metavar="NAME")
    q.add_argument("--entry", type=float)
    q.add_argument("--model", metavar="MODEL.json", help="a model saved by fit --save")
    q.add_argument("--k", type=int, default=2, help="fit K components if no --model")
    q.add_argument("--n-init", type=int, default=4)
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--kind", choices=("auto", "hist", "survival"), default="auto")
    q.add_argument("--output", "-o", required=True, metavar="OUT.png")
    q.set_defaults(func=_cmd_plot)
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line; returns the exit code (see the module docstring)."""
    parser = _parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as e:
        return int(e.code) if isinstance(e.code, int) else EXIT_USAGE
    try:
        _check_options(args)
        return int(args.func(args))
    except CLIError as e:
        print(f"expmix: error: {e}", file=sys.stderr)
        return e.code
    except (ValueError, TypeError) as e:       # validation errors of the library
        from .exceptions import DegenerateFitError
        code = EXIT_FIT if isinstance(e, DegenerateFitError) else EXIT_DATA
        print(f"expmix: error: {e}", file=sys.stderr)
        return code
    except KeyboardInterrupt:
        print("expmix: interrupted", file=sys.stderr)
        return 130
    except MemoryError as e:
        print(f"expmix: error: out of memory{(' (' + str(e) + ')') if str(e) else ''}",
              file=sys.stderr)
        return EXIT_MEMORY
    except BrokenPipeError:      # e.g. `expmix simulate | head`
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return EXIT_OK


def _run() -> None:  # pragma: no cover - console entry used by __main__
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    _run()
