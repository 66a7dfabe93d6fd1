#!/usr/bin/python3
"""Writes an untrained model of the shipped size (model.Config defaults, fixed seed) to the path given:
slow enough per step that a test can interrupt the CLI part-way."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "train"))
import torch  # noqa: E402

import world  # noqa: E402
from export import export_model  # noqa: E402
from model import Config, Kineto  # noqa: E402

torch.manual_seed(0)
vocab = ["<null>"] + world.vocabulary()
export_model(Kineto(Config(vocab_size=len(vocab))), vocab, sys.argv[1])
