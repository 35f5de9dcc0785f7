#!/usr/bin/env python3
"""Golden values for shoal's drift statistics (src/platform/monitoring), computed with scipy.

Writes test/fixtures/platform/monitoring/scipy-golden.json: the inputs and scipy's answers. Run by
hand (scipy is not needed in CI): python3 scripts/monitoring-golden.py
"""
import json
import os

import numpy as np
from scipy import stats
from scipy.spatial import distance

rng = np.random.default_rng(19)
r6 = lambda a: [round(float(x), 6) for x in a]

def edges_of(a, b, bins):
    lo, hi = min(min(a), min(b)), max(max(a), max(b))
    return [hi if i == bins else lo + (hi - lo) * i / bins for i in range(bins + 1)]

def binned_w(ref, cur, edges):
    hr, _ = np.histogram(ref, bins=np.array(edges))
    hc, _ = np.histogram(cur, bins=np.array(edges))
    c = [(edges[i] + edges[i + 1]) / 2 for i in range(len(edges) - 1)]
    return stats.wasserstein_distance(c, c, hr, hc) if hr.sum() and hc.sum() else 0.0

def chunk_rest(values, k, f):
    stats_ = []
    for c in range(k):
        part = [v for i, v in enumerate(values) if i % k == c]
        rest = [v for i, v in enumerate(values) if i % k != c]
        stats_.append(f(rest, part))
    m = float(np.mean(stats_)); s = float(np.std(stats_))
    return {"mean": m, "std": s, "threshold": m + 3 * s}

out = {}

# KS, small numeric samples.
ks_ref = r6(rng.normal(10, 2, 400)); ks_same = r6(rng.normal(10, 2, 300)); ks_shift = r6(rng.normal(10.8, 2, 300))
def ks_d(a, b): return float(stats.ks_2samp(a, b).statistic)
out["ks"] = {
    "reference": ks_ref, "same": ks_same, "shifted": ks_shift,
    "same_d": ks_d(ks_ref, ks_same), "shifted_d": ks_d(ks_ref, ks_shift),
    "same_p_asymp": float(stats.kstwobign.sf(ks_d(ks_ref, ks_same) * np.sqrt(400 * 300 / 700))),
    "shifted_p_asymp": float(stats.kstwobign.sf(ks_d(ks_ref, ks_shift) * np.sqrt(400 * 300 / 700))),
    "calibration_10": chunk_rest(ks_ref, 10, lambda rest, part: ks_d(rest, part)),
}
out["kolmogorov_sf"] = [[x, float(stats.kstwobign.sf(x))] for x in [0.05, 0.3, 0.6, 0.9, 0.99, 1.0, 1.2, 1.8, 2.5, 4.0]]
out["chi2_sf"] = [[k, x, float(stats.chi2.sf(x, k))] for k, x in [(1, 0.5), (1, 3.84), (2, 5.99), (3, 0.1), (7, 14.0), (30, 29.0), (30, 60.0), (99, 150.0)]]

# χ², small categorical samples (a 2×k contingency table, no Yates correction).
cats = ["a", "b", "c", "d"]
chi_ref = list(rng.choice(cats, 500, p=[0.4, 0.3, 0.2, 0.1]))
chi_same = list(rng.choice(cats, 300, p=[0.4, 0.3, 0.2, 0.1]))
chi_shift = list(rng.choice(cats, 300, p=[0.25, 0.3, 0.25, 0.2]))
def counts(xs, keys): return [xs.count(k) for k in keys]
def chi(a, b):
    keys = sorted(set(a) | set(b))
    t = np.array([counts(a, keys), counts(b, keys)])
    t = t[:, t.sum(axis=0) > 0]
    r = stats.chi2_contingency(t, correction=False)
    return float(r.statistic), float(r.pvalue), int(r.dof)
out["chi2"] = {
    "reference": [str(x) for x in chi_ref], "same": [str(x) for x in chi_same], "shifted": [str(x) for x in chi_shift],
    "same_stat": chi(chi_ref, chi_same), "shifted_stat": chi(chi_ref, chi_shift),
    "calibration_10": chunk_rest([str(x) for x in chi_ref], 10, lambda rest, part: chi(rest, part)[0]),
}

# Wasserstein (normalised by the reference's σ), large numeric samples, on 100 equal-width bins over both.
w_ref = r6(rng.gamma(2.0, 3.0, 5000)); w_same = r6(rng.gamma(2.0, 3.0, 3000)); w_shift = r6(rng.gamma(2.0, 3.6, 3000))
def wcase(cur):
    e = edges_of(w_ref, cur, 100)
    return {"binned": binned_w(w_ref, cur, e) / float(np.std(w_ref)), "exact": float(stats.wasserstein_distance(w_ref, cur)) / float(np.std(w_ref)),
            "bin_width": (e[-1] - e[0]) / 100 / float(np.std(w_ref)),
            "calibration_10": chunk_rest(w_ref, 10, lambda rest, part: binned_w(rest, part, e) / float(np.std(rest)))}
out["wasserstein"] = {"reference": w_ref, "same": w_same, "shifted": w_shift, "same_w": wcase(w_same), "shifted_w": wcase(w_shift)}

# Jensen–Shannon (natural log), large categorical samples.
js_cats = [f"hood{i}" for i in range(12)]
pr = np.arange(12, 0, -1) / np.arange(12, 0, -1).sum()
ps = np.roll(pr, 3)
js_ref = [str(x) for x in rng.choice(js_cats, 4000, p=pr)]
js_same = [str(x) for x in rng.choice(js_cats, 2500, p=pr)]
js_shift = [str(x) for x in rng.choice(js_cats, 2500, p=ps)]
def js(a, b):
    keys = sorted(set(a) | set(b))
    return float(distance.jensenshannon(counts(a, keys), counts(b, keys)))
out["jensen_shannon"] = {"reference": js_ref, "same": js_same, "shifted": js_shift, "same_js": js(js_ref, js_same), "shifted_js": js(js_ref, js_shift),
                         "calibration_10": chunk_rest(js_ref, 10, js)}
out["generated_with"] = {"scipy": __import__("scipy").__version__, "numpy": np.__version__}

path = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "platform", "monitoring", "scipy-golden.json")
with open(path, "w") as f:
    json.dump(out, f)
print("wrote", os.path.normpath(path))
