"""The loader must refuse hostile or broken input with a located message, fast and in bounded memory."""

import time
import tracemalloc

import pytest

from livecompanion.scripts.yamlsource import SourceError, decode, load_yaml


def error_of(text: str | bytes) -> SourceError:
    with pytest.raises(SourceError) as info:
        load_yaml(decode(text) if isinstance(text, bytes) else text)
    return info.value


def test_positions_of_nodes_and_keys() -> None:
    located = load_yaml("title: 補水專場\nsegments:\n  - kind: opening\n    target: 5-10m\n")
    assert located.data["segments"][0]["kind"] == "opening"
    assert located.position(("segments", 0, "target")) == (4, 13)
    assert located.position(("segments", 0, "target"), key=True) == (4, 5)
    # a path that does not exist points at its nearest ancestor
    assert located.position(("segments", 0, "cues", 3)) == (3, 5)


def test_syntax_error_is_located() -> None:
    err = error_of("title: [unclosed\nsegments: 1\n")
    assert (err.line, err.col) == (2, 9)
    assert err.message.startswith("not YAML")


def test_not_utf8_points_at_the_byte() -> None:
    err = error_of(b"title: ok\nhost: \xff\xfe\n")
    assert (err.line, err.col) == (2, 7)
    assert "not UTF-8" in err.message


def test_bom_is_accepted() -> None:
    assert load_yaml(decode("\ufefftitle: x\n".encode())).data == {"title": "x"}


def test_anchors_aliases_and_tags_are_refused() -> None:
    assert "anchors" in error_of("a: &x [1]\nb: 2\n").message
    assert "tags" in error_of("a: !!python/object:os.system ls\n").message
    assert "tags" in error_of("a: !custom 1\n").message


def test_billion_laughs_is_refused_at_once() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]" for i in range(8)]
    started = time.perf_counter()
    err = error_of("\n".join(lines))
    assert time.perf_counter() - started < 1
    assert (err.line, err.col) == (1, 4)


def test_deep_nesting_is_refused_without_recursion_error() -> None:
    err = error_of("a: " + "[" * 10_000 + "]" * 10_000)
    assert "nested more than" in err.message
    err = error_of("".join("  " * i + f"k{i}:\n" for i in range(200)) + "  " * 200 + "v: 1\n")
    assert "nested more than" in err.message


def test_fifty_megabytes_is_refused_before_reading_it_all() -> None:
    payload = b"x" * 50_000_000
    tracemalloc.start()
    err = error_of(payload)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert "at most 1,000,000 bytes" in err.message
    assert peak < 10_000_000


def test_duplicate_keys_are_errors() -> None:
    err = error_of("title: a\ntitle: b\n")
    assert (err.line, err.col, err.message) == (2, 1, "duplicate key 'title'")


def test_many_nodes_are_refused() -> None:
    err = error_of("a: [" + ",".join(["1"] * 250_000) + "]")
    assert "nodes" in err.message


def test_hints_for_what_hosts_get_wrong() -> None:
    err = error_of("title：秋冬專場\nsegments:\n  - kind: opening\n")
    assert (err.line, err.col, err.message) == (1, 6, "'title：' uses a full-width colon; write 'title:'")
    err = error_of("title: x\nsegments:\n\t- kind: opening\n")
    assert (err.line, err.col) == (3, 1) and "indent with spaces, not tabs" in err.message
    err = error_of("title: x\nsegments:\n  - kind: opening\n\u3000\u3000target: 5m\n")
    assert (err.line, err.col) == (4, 1) and "full-width space" in err.message
    err = error_of("title: x\nsegments:\n  -  kind: product\n   target: 15m\n")
    assert "indentation does not line up" in err.message
    # a full-width colon inside a text is fine
    assert load_yaml("title: 家人們：晚上好\n").data == {"title": "家人們：晚上好"}
