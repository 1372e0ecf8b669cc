"""Path escaping, the breadth-first collection tree (depth limit, cycles, several parents), path globs."""

import pytest

from source_iconik.collections_tree import CollectionTree, PathMatcher, escape_title, join_path, split_path


@pytest.mark.parametrize("titles", [
    ["Kitsch", "02 UGC Footage", "01 Talent (Before)"],
    ["AC/DC", "Live/2024"],
    ["..", ".", "up"],
    ["100%", "%2F literally", "50%25"],
    ["Ünïcödé", "日本語", "emoji 🎬"],
    ["trailing/", "/leading", "//"],
])
def test_join_then_split_round_trips_titles(titles):
    assert split_path(join_path(titles)) == titles


def test_slash_and_percent_are_escaped_in_titles():
    assert escape_title("AC/DC 100%") == "AC%2FDC 100%25"
    assert join_path(["AC/DC", "Live"]) == "AC%2FDC/Live"


def test_none_title_becomes_empty_segment():
    assert escape_title(None) == ""


def col(cid, title, parents=(), **extra):
    return {"id": cid, "title": title, "in_collections": list(parents), **extra}


def test_tree_builds_paths_and_depths_from_roots():
    tree = CollectionTree.build([col("r", "Root"), col("a", "A", ["r"]), col("b", "B", ["a"])])
    assert tree.paths == {"r": ["Root"], "a": ["Root/A"], "b": ["Root/A/B"]}
    assert tree.depth == {"r": 1, "a": 2, "b": 3}
    assert tree.ancestors["b"] == {"r", "a"}


def test_parent_id_and_parents_fields_are_understood():
    tree = CollectionTree.build([
        {"id": "r", "title": "Root", "in_collections": None},
        {"id": "a", "title": "A", "parent_id": "r"},
        {"id": "b", "title": "B", "parents": ["a"]},
    ])
    assert tree.paths["b"] == ["Root/A/B"]


def test_collections_deeper_than_max_depth_are_cut():
    chain = [col("c0", "L0")] + [col(f"c{i}", f"L{i}", [f"c{i - 1}"]) for i in range(1, 6)]
    tree = CollectionTree.build(chain, max_depth=3)
    assert set(tree.paths) == {"c0", "c1", "c2"}
    assert tree.paths["c2"] == ["L0/L1/L2"]
    assert not tree.in_scope("c3")
    assert tree.paths_of(["c5", "c1"]) == ["L0/L1"]


def test_cycle_does_not_loop_forever():
    # r -> a -> b -> a (b also claims a as its child, a cycle below the root)
    tree = CollectionTree.build([col("r", "R"), col("a", "A", ["r", "b"]), col("b", "B", ["a"])], max_depth=50)
    assert tree.paths["a"] == ["R/A"]
    assert tree.paths["b"] == ["R/A/B"]


def test_pure_cycle_without_root_is_out_of_scope():
    tree = CollectionTree.build([col("x", "X", ["y"]), col("y", "Y", ["x"])])
    assert tree.paths == {}
    assert not tree.in_scope("x")


def test_collection_with_two_parents_gets_both_paths():
    tree = CollectionTree.build([
        col("r1", "Brand"), col("r2", "Archive"), col("shared", "Shoot", ["r1", "r2"]), col("leaf", "Day1", ["shared"]),
    ])
    assert tree.paths["shared"] == ["Archive/Shoot", "Brand/Shoot"]
    assert tree.paths["leaf"] == ["Archive/Shoot/Day1", "Brand/Shoot/Day1"]
    assert tree.depth["leaf"] == 3


def test_unknown_parent_makes_a_root():
    tree = CollectionTree.build([col("a", "Orphan", ["missing-parent"])])
    assert tree.paths == {"a": ["Orphan"]}


def test_under_returns_collection_and_descendants():
    tree = CollectionTree.build([col("r", "R"), col("a", "A", ["r"]), col("b", "B", ["a"]), col("o", "O")])
    assert tree.under(["a"]) == {"a", "b"}
    assert tree.under(["r"]) == {"r", "a", "b"}


def test_path_matcher_is_case_insensitive_fnmatch():
    matcher = PathMatcher(["kitsch/*/01 talent*"])
    assert matcher.matches_any(["Kitsch/02 UGC Footage/01 Talent (Before)"])
    assert not matcher.matches_any(["Other/02 UGC Footage/01 Talent (Before)"])


def test_path_matcher_matches_any_of_several_paths_and_patterns():
    matcher = PathMatcher(["A/?", "Z/[xy]*"])
    assert matcher.matches_any(["nope", "z/Yes"])
    assert matcher.matches_any(["a/b"])
    assert not matcher.matches_any(["a/bc", "z/q"])


def test_empty_path_matcher_matches_everything_and_is_falsy():
    matcher = PathMatcher([])
    assert not matcher
    assert matcher.matches_any([])
