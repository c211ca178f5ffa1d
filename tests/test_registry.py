"""Registry[T], the one idiom for named judges, graders, operators and processors, and its call sites."""

import subprocess
import sys
import textwrap

import pytest

from judgeaudit.registry import Registry, UnknownName


def test_register_direct_and_as_decorator_keep_order():
    reg: Registry[int] = Registry("number")
    reg.register("two", 2)

    @reg.register("double")
    def double(x):
        return 2 * x

    assert reg["two"] == 2 and reg["double"] is double and double(3) == 6
    assert reg.names() == ["two", "double"] and list(reg) == ["two", "double"]
    assert len(reg) == 2 and "two" in reg and "three" not in reg
    assert reg.items() == [("two", 2), ("double", double)]
    assert reg.get("three") is None and reg.get("two") == 2


def test_falsy_entries_are_registered():
    reg: Registry[int] = Registry("number")
    reg.register("zero", 0)
    assert reg["zero"] == 0


def test_duplicate_registration_refused():
    reg: Registry[int] = Registry("number")
    reg.register("one", 1)
    with pytest.raises(ValueError, match="number 'one' registered twice"):
        reg.register("one", 11)
    with pytest.raises(ValueError, match="registered twice"):
        reg.register_lazy("one", "math:pi")
    reg.register_lazy("pi", "math:pi")
    with pytest.raises(ValueError, match="number 'pi' registered twice"):
        reg.register("pi", 3)
    assert reg["one"] == 1


def test_unknown_name_lists_known_ones_in_one_line():
    reg: Registry[int] = Registry("widget")
    reg.register("zeta", 1)
    reg.register_lazy("alpha", "math:pi")
    with pytest.raises(KeyError) as info:
        reg["nope"]
    assert isinstance(info.value, UnknownName)
    # str() reads as a sentence (a plain KeyError would add quotes), known names sorted.
    assert str(info.value) == "unknown widget 'nope'; known: alpha, zeta"


def test_lazy_target_must_name_module_and_attribute():
    reg: Registry[int] = Registry("number")
    for bad in ("math", "math:", ":pi"):
        with pytest.raises(ValueError, match="module:attr"):
            reg.register_lazy("x", bad)
    assert reg.names() == []


def test_lazy_entry_imported_on_first_lookup_only(tmp_path):
    # A fresh interpreter so that the module's import state is this test's own.
    (tmp_path / "lazy_target_mod.py").write_text("IMPORTS = []\nIMPORTS.append(1)\nVALUE = object()\n")
    script = textwrap.dedent("""
        import sys
        from judgeaudit.registry import Registry
        reg = Registry("thing")
        reg.register_lazy("v", "lazy_target_mod:VALUE")
        assert "lazy_target_mod" not in sys.modules
        assert "v" in reg and reg.names() == ["v"] and len(reg) == 1
        assert "lazy_target_mod" not in sys.modules, "listing names must not import"
        first = reg["v"]
        import lazy_target_mod
        assert first is lazy_target_mod.VALUE and reg["v"] is first
        assert lazy_target_mod.IMPORTS == [1]
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_importing_graders_imports_no_grader():
    script = ("import sys, judgeaudit.graders as g; "
              "print(sorted(m for m in sys.modules if m.startswith('judgeaudit.graders.')), len(g.GRADERS))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["[]", "9"]


def test_registries_at_their_call_sites_name_the_known_entries():
    from judgeaudit.graders import get_grader
    from judgeaudit.judges.factory import JUDGE_FAMILIES, judge_families
    from judgeaudit.judges.synthetic import BEHAVIOURS
    from judgeaudit.probes.operators import OPERATORS
    from judgeaudit.sos.processors import PROCESSORS

    with pytest.raises(KeyError, match=r"^unknown grader 'nope'; known: ifeval, livebench, "):
        get_grader("nope")
    from judgeaudit.graders import GRADERS
    assert [get_grader(name).name for name in GRADERS] == GRADERS.names()
    with pytest.raises(KeyError, match=r"^unknown operator 'nope'; known: .*factual_error"):
        OPERATORS["nope"]
    assert PROCESSORS.names() == ["gpqa_shuffle_choices", "musr_parse_choices"]
    assert JUDGE_FAMILIES.names() == ["local", "api", "synthetic", "reward", "likelihood", "jury", "plugin"]
    assert BEHAVIOURS.names() == ["oracle", "longer", "markdown", "position", "random"]
    kinds = [kind for _, kind, _ in judge_families()]
    assert kinds == (["local", "api", "api"] + ["synthetic"] * len(BEHAVIOURS)
                     + ["reward", "likelihood", "jury", "plugin"])


def test_unknown_processor_is_an_input_error_naming_the_field():
    from judgeaudit.errors import InputError
    from judgeaudit.sos.data import DocSet
    from judgeaudit.sos.prompts import _process

    class Sub:
        name, process = "gpqa_main", "shuffle"

    with pytest.raises(InputError, match="unknown processor 'shuffle'; known: gpqa_shuffle_choices, "
                                         "musr_parse_choices") as info:
        _process(Sub(), DocSet(docs=[{}], origin="gpqa.jsonl"), 0, "document")
    assert info.value.field == "process"
