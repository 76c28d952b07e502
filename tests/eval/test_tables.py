"""One table, two targets: plain columns for a terminal, Markdown for a file."""

from __future__ import annotations

from antlm.eval.tables import INDENT, render_table, strong, target_of

HEADER = ["task", "pairs", "causal"]
ROWS = [["ewok", "10", "60.0"], [f"{INDENT}agent-properties", "", "5.0"], ["glue", "–", "–"]]


def test_the_terminal_gets_aligned_columns_without_markdown() -> None:
    lines = render_table(HEADER, ROWS, "terminal").splitlines()
    assert lines == [
        "task                pairs  causal",
        "------------------  -----  ------",
        "ewok                   10    60.0",
        "  agent-properties            5.0",  # indented with spaces, numbers right-aligned
        "glue                    –       –",
    ]
    assert strong("Macro-average", "terminal") == "Macro-average"


def test_markdown_keeps_an_indent_as_non_breaking_spaces() -> None:
    table = render_table(HEADER, ROWS, "markdown")
    assert table.splitlines()[:2] == ["| task | pairs | causal |", "|:--|--:|--:|"]
    assert "| &nbsp;&nbsp;agent-properties |  | 5.0 |" in table
    assert strong("Macro-average", "markdown") == "**Macro-average**"


def test_words_line_up_left_and_numbers_right_in_one_column() -> None:
    lines = render_table(["task", "score", "note"],
                         [["rte", "50.0", ""], ["boolq", "not run", "no train file"]],
                         "terminal").splitlines()
    assert lines[2] == "rte       50.0"
    assert lines[3] == "boolq  not run  no train file"
    assert lines[1].endswith("  ----")  # a last column of notes: its rule as long as its header
    # a column of nothing but missing scores (a run without results) still lines up right
    assert render_table(["task", "a run", "none"], [["ewok", "50.0", "–"]],
                        "terminal").splitlines()[2] == "ewok   50.0     –"


def test_a_md_file_gets_markdown_and_anything_else_plain_text() -> None:
    assert target_of("report.md") == "markdown"
    assert target_of("report.txt") == "terminal"
    assert target_of(None) == "terminal"  # standard output
