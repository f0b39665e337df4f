"""The pipeline engine: runs a bundle's nodes in order with data_flow and feedback routing."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from leapp_ros.bundle import Bundle, load_bundle
from leapp_ros.engine.backends import Backend, BackendOptions, create_backend
from leapp_ros.errors import EngineError


class Engine:
    """Owns the backends and the feedback state of one bundle.

    `run(inputs)` takes every external input by key (`node/port`) with the declared shape and dtype and
    returns every external output by key. Arrays passed in are only read; arrays returned belong to the
    caller. Feedback buffers are private, start from the bundle's initial values and are committed only
    after every node of the tick succeeded, so a failed tick leaves the state as it was. A fresh output that
    nobody else holds becomes the next tick's state as it is (the backends return new arrays each call).
    """

    def __init__(self, bundle: Bundle, options: BackendOptions | None = None) -> None:
        self.bundle = bundle
        self.options = options or BackendOptions()
        self._backends: list[Backend] = []
        try:
            for node in bundle.nodes:
                self._backends.append(create_backend(node, self.options))
        except BaseException:
            self.close()
            raise
        # Per-node feed dicts live for the engine's lifetime; the tick only swaps values in them.
        self._feeds: list[dict[str, np.ndarray]] = [{} for _ in bundle.nodes]
        node_index = {node.name: i for i, node in enumerate(bundle.nodes)}
        self._external = [(p.key, node_index[p.node], p.name, p.shape, p.dtype) for p in bundle.inputs]
        # Feedback state lives in the target node's feed dict: (feed, input name) per feedback target.
        self._state_slots: dict[str, tuple[dict[str, np.ndarray], str]] = {}
        for edge in bundle.feedback:
            port = bundle.port(edge.target)
            self._state_slots[edge.target] = (self._feeds[node_index[port.node]], port.name)
        self.reset()
        # Routing per node, resolved once: external outputs, data_flow targets, feedback targets.
        external_outputs = {p.key for p in bundle.outputs}
        forwarded = {e.source for e in bundle.data_flow} | external_outputs
        # (backend, its feed, outputs to the caller, outputs to other nodes' feeds, outputs to feedback state)
        self._plan: list[tuple[Backend, dict[str, np.ndarray], list[Any], list[Any], list[Any]]] = []
        for backend, feed, node in zip(self._backends, self._feeds, bundle.nodes):
            to_caller, to_nodes, to_state = [], [], []
            for index, port in enumerate(node.outputs):
                if port.key in external_outputs:
                    to_caller.append((index, port.key))
                to_nodes += [(index, self._feeds[node_index[e.target.split("/")[0]]], e.target.split("/")[1])
                             for e in bundle.data_flow if e.source == port.key]
                targets = [e.target for e in bundle.feedback if e.source == port.key]
                # A fresh output nobody else sees becomes the state itself (no copy); one that is also handed
                # on, or feeds several state inputs, is copied so that no two holders share an array.
                copy = port.key in forwarded or len(targets) > 1
                to_state += [(index, *self._state_slots[t], copy) for t in targets]
            self._plan.append((backend, feed, to_caller, to_nodes, to_state))
        self._pending: list[tuple[dict[str, np.ndarray], str, np.ndarray, bool]] = []

    @classmethod
    def load(cls, path: str | Path, options: BackendOptions | None = None) -> Engine:
        return cls(load_bundle(path), options)

    @property
    def input_keys(self) -> list[str]:
        return [key for key, *_ in self._external]

    @property
    def output_keys(self) -> list[str]:
        return [p.key for p in self.bundle.outputs]

    def describe(self) -> list[dict[str, object]]:
        return [{"node": b.node.name, **b.describe()} for b in self._backends]

    def reset(self) -> None:
        """Restore every feedback buffer from the bundle's initial values (zeros where absent)."""
        for key, (feed, name) in self._state_slots.items():
            feed[name] = np.array(self.bundle.initial_value(key), copy=True)

    def feedback_state(self) -> dict[str, np.ndarray]:
        """A copy of the current feedback buffers, for inspection and tests."""
        return {key: feed[name].copy() for key, (feed, name) in self._state_slots.items()}

    def run(self, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        if len(inputs) != len(self._external):
            self._raise_key_mismatch(inputs)
        feeds = self._feeds
        try:
            for key, node, name, shape, dtype in self._external:
                value = inputs[key]
                if value.shape != shape or value.dtype != dtype or not isinstance(value, np.ndarray):
                    raise TypeError
                feeds[node][name] = value
        except (KeyError, TypeError, AttributeError):
            self._raise_bad_input(key, inputs.get(key), inputs, shape, dtype)
        outputs: dict[str, np.ndarray] = {}
        pending = self._pending
        pending.clear()
        for backend, feed, to_caller, to_nodes, to_state in self._plan:
            results = backend.run(feed)
            for index, key in to_caller:
                outputs[key] = results[index]
            for index, target_feed, name in to_nodes:
                target_feed[name] = results[index]
            for index, feed_of_target, name, copy in to_state:
                pending.append((feed_of_target, name, results[index], copy))
        for feed_of_target, name, value, copy in pending:  # commit feedback only once the whole tick succeeded
            feed_of_target[name] = value.copy() if copy else value
        return outputs

    def _raise_bad_input(self, key: str, value: object, inputs: Mapping[str, np.ndarray], shape: tuple[int, ...],
                         dtype: np.dtype[Any]) -> None:
        if key not in inputs:
            self._raise_key_mismatch(inputs)
        if not isinstance(value, np.ndarray) and hasattr(value, "shape") and hasattr(value, "dtype"):
            raise EngineError(f"input '{key}' must be a numpy array, got a {type(value).__name__}")
        got = (f"{value.dtype}{list(value.shape)}" if isinstance(value, np.ndarray)
               else f"a {type(value).__name__}, not a numpy array")
        raise EngineError(f"input '{key}' must be {dtype}{list(shape)}, got {got}")

    def _raise_key_mismatch(self, inputs: Mapping[str, np.ndarray]) -> None:
        expected = set(self.input_keys)
        missing = sorted(expected - set(inputs))
        unknown = sorted(set(inputs) - expected)
        parts = ([f"missing {missing}"] if missing else []) + ([f"unknown {unknown}"] if unknown else [])
        raise EngineError("pipeline inputs do not match the bundle: " + "; ".join(parts))

    def close(self) -> None:
        for backend in self._backends:
            backend.close()
        self._backends = []

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
