"""Score the trained model on the test set and write evaluation.json (runs in the XGBoost container)."""

import json
import pathlib
import pickle
import tarfile

import numpy as np
import pandas as pd
import xgboost

if __name__ == "__main__":
    with tarfile.open("/opt/ml/processing/model/model.tar.gz") as tar:
        tar.extractall(path=".")
    model = pickle.load(open("xgboost-model", "rb"))

    test = pd.read_csv("/opt/ml/processing/test/test.csv", header=None)
    labels = test.iloc[:, 0].to_numpy()
    predictions = np.clip(model.predict(xgboost.DMatrix(test.iloc[:, 1:].values)), 1e-7, 1 - 1e-7)
    log_loss = float(-np.mean(labels * np.log(predictions) + (1 - labels) * np.log(1 - predictions)))

    pathlib.Path("/opt/ml/processing/evaluation").mkdir(parents=True, exist_ok=True)
    with open("/opt/ml/processing/evaluation/evaluation.json", "w") as f:
        f.write(json.dumps({"metrics": {"log_loss": {"value": log_loss}}}))
