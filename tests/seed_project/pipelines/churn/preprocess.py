"""Split the churn data into train, validation and test sets (runs in the SKLearn processing container)."""

import argparse
import os
import pathlib

import boto3
import numpy as np
import pandas as pd

BASE_DIR = "/opt/ml/processing"

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--input-data", type=str, required=True)
    args = parser.parse_args()

    pathlib.Path(f"{BASE_DIR}/data").mkdir(parents=True, exist_ok=True)
    bucket, _, key = args.input_data.removeprefix("s3://").partition("/")
    local_file = f"{BASE_DIR}/data/churn.csv"
    boto3.resource("s3").Bucket(bucket).download_file(key, local_file)

    frame = pd.read_csv(local_file, header=None)
    frame = frame.sample(frac=1.0, random_state=7)
    train, validation, test = np.split(frame, [int(0.7 * len(frame)), int(0.85 * len(frame))])
    for name, part in (("train", train), ("validation", validation), ("test", test)):
        os.makedirs(f"{BASE_DIR}/{name}", exist_ok=True)
        part.to_csv(f"{BASE_DIR}/{name}/{name}.csv", header=False, index=False)
