# XGBoost baseline for `npm run bench:train`: trains the same model on the same rows (written by
# bench/train.ts as raw float32 files) with the hist method, and writes its test predictions back.
# Prints one JSON line: seconds to build the DMatrix (quantile sketch), seconds to train, version.
# Usage: python3 bench/xgboost-baseline.py DIR THREADS
import json
import sys
import time

import numpy as np
import xgboost as xgb

folder, threads = sys.argv[1], int(sys.argv[2])
meta = json.load(open(f"{folder}/meta.json"))
features = len(meta["names"])


def load(name):
    x = np.fromfile(f"{folder}/{name}-x.f32", dtype=np.float32).reshape(-1, features)
    y = np.fromfile(f"{folder}/{name}-y.f32", dtype=np.float32)
    return x, y


train_x, train_y = load("train")
test_x, _ = load("test")
types = ["c" if kind == "categorical" else "q" for kind in meta["kinds"]]
start = time.perf_counter()
train = xgb.DMatrix(train_x, label=train_y, feature_names=meta["names"], feature_types=types, enable_categorical=True, nthread=threads)
built = time.perf_counter()
params = {"objective": "binary:logistic", "tree_method": "hist", "max_depth": 6, "max_bin": 256, "eta": 0.1, "nthread": threads, "max_cat_to_onehot": 1}
booster = xgb.train(params, train, num_boost_round=100)
trained = time.perf_counter()
test = xgb.DMatrix(test_x, feature_names=meta["names"], feature_types=types, enable_categorical=True, nthread=threads)
booster.predict(test).astype(np.float32).tofile(f"{folder}/xgboost-predictions.f32")
print(json.dumps({"build_seconds": built - start, "train_seconds": trained - built, "version": xgb.__version__}))
