"""Judges loaded from user code: ``module:attribute`` or ``path/to/file.py:attribute``.

The attribute may be a judge object or a zero-argument factory (class or function)
returning one. Objects with ``judge_batch`` are used as they are; objects with only
``judge_pair(prompt, answer_a, answer_b) -> {label: probability}`` are adapted.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import sys
from pathlib import Path
from typing import Any, Mapping

from judgeaudit.errors import JudgeauditError
from judgeaudit.judges.protocol import (VERDICTS, BaseJudge, BatchJudgeAdapter, Judgment, JudgeRequest, normalize,
                                       point_mass)


class PluginError(JudgeauditError):
    """A plugin judge that cannot be loaded or does not follow the protocol."""


def _import_target(spec: str) -> Any:
    module_part, sep, attr = spec.rpartition(":")
    if not sep or not module_part or not attr:
        raise PluginError(f"plugin judge {spec!r}: expected 'module:attribute' or 'path/to/file.py:attribute'")
    if module_part.endswith(".py"):
        path = Path(module_part)
        if not path.is_file():
            raise PluginError(f"plugin judge {spec!r}: no such file {path}")
        digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
        name = f"judgeaudit_plugin_{path.stem}_{digest}"
        if name in sys.modules:
            module = sys.modules[name]
        else:
            loader_spec = importlib.util.spec_from_file_location(name, path)
            if loader_spec is None or loader_spec.loader is None:
                raise PluginError(f"plugin judge {spec!r}: cannot load {path} as Python")
            module = importlib.util.module_from_spec(loader_spec)
            sys.modules[name] = module
            try:
                loader_spec.loader.exec_module(module)
            except (Exception, SystemExit) as exc:
                del sys.modules[name]
                raise PluginError(f"plugin judge {spec!r}: importing {path} failed: {_describe(exc)}") from None
    else:
        try:
            module = importlib.import_module(module_part)
        except ImportError as exc:
            raise PluginError(f"plugin judge {spec!r}: cannot import module {module_part!r} ({exc})") from exc
        except (Exception, SystemExit) as exc:
            raise PluginError(f"plugin judge {spec!r}: importing {module_part!r} failed: {_describe(exc)}") from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise PluginError(f"plugin judge {spec!r}: module {module_part!r} has no attribute {attr!r}") from None


def _describe(exc: BaseException) -> str:
    """One line for what plugin code raised; sys.exit() is named so it is never mistaken for success."""
    if isinstance(exc, SystemExit):
        return f"it called sys.exit({exc.code!r}); judge code must return or raise, never exit"
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:300]


def _call(name: str, what: str, fn: Any, *args: Any) -> Any:
    """Run plugin code; whatever it raises, or an exit it attempts, becomes one PluginError."""
    try:
        return fn(*args)
    except JudgeauditError:
        raise
    except (Exception, SystemExit) as exc:
        raise PluginError(f"plugin judge {name!r}: {what} failed: {_describe(exc)}") from None


def _is_judge(obj: Any) -> bool:
    return callable(getattr(obj, "judge_batch", None)) or callable(getattr(obj, "judge_pair", None))


def load_plugin(spec: str) -> Any:
    """The judge that ``spec`` names, adapted to the batch protocol."""
    target = _import_target(spec)
    obj = target
    if not _is_judge(obj) or inspect.isclass(obj):
        if not callable(obj):
            raise PluginError(_protocol_message(spec, obj))
        try:
            obj = obj()
        except TypeError as exc:
            raise PluginError(f"plugin judge {spec!r}: calling the factory with no arguments failed ({exc})") from exc
        except (Exception, SystemExit) as exc:
            raise PluginError(f"plugin judge {spec!r}: the factory failed: {_describe(exc)}") from None
    if callable(getattr(obj, "judge_batch", None)):
        if not isinstance(getattr(obj, "name", None), str):
            try:
                obj.name = spec
            except AttributeError:
                pass
        return BatchPluginAdapter(obj)
    if callable(getattr(obj, "judge_pair", None)):
        return PairJudgeAdapter(obj, name=getattr(obj, "name", None) if isinstance(getattr(obj, "name", None), str) else spec)
    raise PluginError(_protocol_message(spec, obj))


def _protocol_message(spec: str, obj: Any) -> str:
    return (f"plugin judge {spec!r} gives a {type(obj).__name__} with neither judge_batch(requests) nor "
            f"judge_pair(prompt, answer_a, answer_b) -> dict over {', '.join(VERDICTS)}")


class BatchPluginAdapter(BatchJudgeAdapter):
    """A plugin's own ``judge_batch``, with what it returns checked: one Judgment per request."""

    def judge_batch(self, requests: list[JudgeRequest]) -> list[Judgment]:
        out = _call(self.name, "judge_batch", self.inner.judge_batch, requests)
        if not isinstance(out, (list, tuple)):
            raise PluginError(f"plugin judge {self.name!r}: judge_batch returned {type(out).__name__}, "
                              f"expected a list of {len(requests)} Judgment objects")
        if len(out) != len(requests):
            raise PluginError(f"plugin judge {self.name!r}: judge_batch returned {len(out)} judgments for "
                              f"{len(requests)} requests")
        bad = next((i for i, j in enumerate(out) if not isinstance(j, Judgment)), None)
        if bad is not None:
            raise PluginError(f"plugin judge {self.name!r}: judge_batch item {bad} is {type(out[bad]).__name__}, "
                              f"expected a Judgment")
        return list(out)


class PairJudgeAdapter(BaseJudge):
    """Runs a plain ``judge_pair`` object one request at a time, checking what it returns."""

    batch_size = 1

    def __init__(self, inner: Any, name: str):
        self.inner, self.name = inner, name

    @property
    def identity(self) -> dict:
        return {"name": self.name}

    def judge_batch(self, requests: list[JudgeRequest]) -> list[Judgment]:
        return [self._one(req) for req in requests]

    def _one(self, req: JudgeRequest) -> Judgment:
        result = _call(self.name, "judge_pair", self.inner.judge_pair, req.prompt, req.answer_a, req.answer_b)
        if result is None:  # the plugin could not read its own judge's output
            return Judgment.unparsed("")
        try:
            if isinstance(result, str):
                probs = point_mass(result)
            elif isinstance(result, Mapping):
                probs = normalize(result)
            else:
                raise ValueError(f"returned a {type(result).__name__}")
        except (ValueError, TypeError) as exc:
            raise PluginError(f"plugin judge {self.name!r}: judge_pair must return probabilities over "
                              f"{', '.join(VERDICTS)}: {exc}") from None
        top = max(probs, key=probs.get)
        return Judgment(probs=probs, raw=f"[[{top}]]", parsed=True)
