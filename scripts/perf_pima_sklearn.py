#!/usr/bin/env python3
"""scikit-learn reference for `chainz bench pima` (optional; not a dependency).

Runs the Pima protocol of `chainz bench pima` with scikit-learn stand-ins on
one thread and times it; with --chainz it also runs `chainz bench pima` (the
built CLI, same machine, one after the other) and prints the wall-time ratio.

Protocol (as `chainz bench pima`, packages/bench/src/experiments/pima.*): the
Pima CSV (768 rows; zeros in glucose, pressure, triceps, insulin, mass read as
missing), stratified 10-fold × 1, median imputation and standardisation fitted
on each training fold, then per fold:

  cr, cr-nodreg   MLPClassifier 32-32, tanh     (stand-ins: scikit-learn has no
  relu-mlp        MLPClassifier 32-32, relu      polynomial activation, GELU or DREG)
  gelu-mlp        MLPClassifier 32-32, logistic
                  all: Adam lr 3e-3, batch 64, 60 epochs, 15% stratified
                  validation hold-out, best epoch kept (scikit-learn picks it
                  by validation accuracy, ours by validation cross-entropy)
  logreg          LogisticRegression (lbfgs)
  svm-rbf         SVC, RBF kernel, C = 1, gamma = 1/d (libsvm's default, as ours)
  xgboost         GradientBoostingClassifier: 100 trees, depth 3, learning
                  rate 0.1, subsample 0.8, max_features 0.8 (stand-in for XGBoost)
  majority        DummyClassifier (most frequent)

The folds are scikit-learn's (StratifiedKFold, shuffled, seed 0), not the
project's splitter: accuracies are comparable in kind, not fold for fold.
Timed: wall time and process CPU time of the whole protocol (data loading
included) on one thread (OMP/OpenBLAS threads pinned to 1).

Install on Debian: apt-get install -y python3-sklearn; use Debian's
interpreter (/usr/bin/python3) if pyenv or a venv shadows it.

  /usr/bin/python3 scripts/perf_pima_sklearn.py [--data FILE] [--chainz] [--chainz-args "..."]
"""
import argparse
import json
import os
import re
import resource
import shlex
import subprocess
import sys
import tempfile
import time

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import numpy as np  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EMBEDDED = os.path.join(ROOT, "packages", "data", "src", "pima", "pima-csv.generated.ts")
ZERO_MEANS_MISSING = ["glucose", "pressure", "triceps", "insulin", "mass"]
HIDDEN = (32, 32)
EPOCHS = 60
BATCH = 64
LR = 3e-3
VALIDATION = 0.15


def read_csv_text(path):
    if path:
        with open(path, encoding="utf-8") as f:
            return f.read()
    with open(EMBEDDED, encoding="utf-8") as f:
        src = f.read()
    m = re.search(r"export const PIMA_CSV: string = (\".*?\");\s*$", src, re.S | re.M)
    if not m:
        sys.exit(f"perf_pima_sklearn: no PIMA_CSV string in {EMBEDDED}")
    return json.loads(m.group(1))


def load(path):
    lines = [ln for ln in read_csv_text(path).splitlines() if ln.strip()]
    header = [h.strip().lower() for h in lines[0].split(",")]
    names = ["pregnant", "glucose", "pressure", "triceps", "insulin", "mass", "pedigree", "age"]
    rows = [ln.split(",") for ln in lines[1:]] if header[0].isalpha() else [ln.split(",") for ln in lines]
    x = np.array([[float(v) for v in r[:8]] for r in rows], dtype=np.float64)
    y = np.array([1 if r[8].strip() in ("pos", "1") else 0 for r in rows], dtype=np.int64)
    for name in ZERO_MEANS_MISSING:
        j = names.index(name)
        x[x[:, j] == 0, j] = np.nan
    return x, y


def models(d):
    from sklearn.dummy import DummyClassifier
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.svm import SVC

    def mlp(activation, seed):
        return MLPClassifier(
            hidden_layer_sizes=HIDDEN,
            activation=activation,
            solver="adam",
            learning_rate_init=LR,
            batch_size=BATCH,
            max_iter=EPOCHS,
            early_stopping=True,
            validation_fraction=VALIDATION,
            n_iter_no_change=EPOCHS,  # never stop early: run all epochs, keep the best
            random_state=seed,
        )

    return [
        ("cr", lambda s: mlp("tanh", s)),
        ("cr-nodreg", lambda s: mlp("tanh", s)),
        ("relu-mlp", lambda s: mlp("relu", s)),
        ("gelu-mlp", lambda s: mlp("logistic", s)),
        ("logreg", lambda s: LogisticRegression(max_iter=1000)),
        ("svm-rbf", lambda s: SVC(C=1.0, gamma=1.0 / d)),
        ("xgboost", lambda s: GradientBoostingClassifier(n_estimators=100, max_depth=3, learning_rate=0.1, subsample=0.8, max_features=0.8, random_state=s)),
        ("majority", lambda s: DummyClassifier(strategy="most_frequent")),
    ]


def run_sklearn(path):
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.impute import SimpleImputer
    from sklearn.model_selection import StratifiedKFold
    from sklearn.preprocessing import StandardScaler

    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    t0, c0 = time.perf_counter(), time.process_time()
    x, y = load(path)
    folds = list(StratifiedKFold(n_splits=10, shuffle=True, random_state=0).split(x, y))
    acc = {}
    secs = {}
    for name, make in models(x.shape[1]):
        acc[name] = []
        s0 = time.process_time()
        for i, (tr, te) in enumerate(folds):
            imp = SimpleImputer(strategy="median").fit(x[tr])
            sc = StandardScaler().fit(imp.transform(x[tr]))
            xtr = sc.transform(imp.transform(x[tr]))
            xte = sc.transform(imp.transform(x[te]))
            m = make(i).fit(xtr, y[tr])
            acc[name].append(float(np.mean(m.predict(xte) == y[te])))
        secs[name] = time.process_time() - s0
    return {
        "wallSeconds": time.perf_counter() - t0,
        "cpuSeconds": time.process_time() - c0,
        "models": {n: {"accuracyMean": 100 * float(np.mean(a)), "accuracyStd": 100 * float(np.std(a, ddof=1)), "cpuSeconds": secs[n]} for n, a in acc.items()},
    }


def run_chainz(extra):
    with tempfile.TemporaryDirectory(prefix="chainz-pima-") as out:
        cli = os.path.join(ROOT, "packages", "bench", "dist", "cli.js")
        if not os.path.exists(cli):
            sys.exit("perf_pima_sklearn: build the CLI first (pnpm build)")
        # the built CLI itself (not scripts/chainz.mjs, whose build check would be timed too)
        cmd = [os.environ.get("NODE", "node"), cli, "bench", "pima", "--out", out, "--no-progress", *extra]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            sys.stderr.write(proc.stdout + proc.stderr)
            sys.exit(f"perf_pima_sklearn: `{' '.join(cmd)}` failed ({proc.returncode})")
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return {"wallSeconds": wall, "cpuSeconds": cpu, "command": " ".join(shlex.quote(c) for c in cmd[1:]), "stdoutTail": proc.stdout[-3000:]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", help="a copy of the Pima CSV (default: the copy embedded in @chainz/data)")
    ap.add_argument("--chainz", action="store_true", help="also run `chainz bench pima` (the built CLI: run pnpm build first) and print the wall-time ratio")
    ap.add_argument("--chainz-args", default="", help='extra arguments for chainz bench pima, e.g. "--workers 1"')
    a = ap.parse_args()
    import sklearn

    sk = run_sklearn(a.data)
    report = {"sklearn": {"version": sklearn.__version__, **sk}, "cpuModel": cpu_model(), "cpus": os.cpu_count()}
    print(f"CPU: {report['cpuModel']} ({report['cpus']} logical cores); scikit-learn {sklearn.__version__}, one thread")
    print("\n| model | accuracy % (10 folds) | CPU s |\n| --- | --- | --- |")
    for n, m in sk["models"].items():
        print(f"| {n} | {m['accuracyMean']:.2f} ± {m['accuracyStd']:.2f} | {m['cpuSeconds']:.2f} |")
    print(f"\nscikit-learn Pima protocol: {sk['wallSeconds']:.2f} s wall, {sk['cpuSeconds']:.2f} s CPU")
    if a.chainz:
        cz = run_chainz(shlex.split(a.chainz_args))
        report["chainz"] = cz
        report["ratioWall"] = cz["wallSeconds"] / sk["wallSeconds"]
        report["ratioCpu"] = cz["cpuSeconds"] / sk["cpuSeconds"]
        print(f"chainz bench pima:          {cz['wallSeconds']:.2f} s wall, {cz['cpuSeconds']:.2f} s CPU ({cz['command']})")
        print(f"ratio chainz / scikit-learn: {report['ratioWall']:.2f}x wall, {report['ratioCpu']:.2f}x CPU")
    print(json.dumps(report))


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


if __name__ == "__main__":
    main()
