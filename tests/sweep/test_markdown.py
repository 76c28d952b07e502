"""The sweep summary as Markdown."""

from antlm.sweep.markdown import render_markdown


def test_headline_prints_each_backends_macro_and_paired_delta(made_up_summary):
    text = render_markdown(made_up_summary)
    headline = text.split("### Dev loss")[0]
    assert "| arm | schedule | seeds | macro, causal | Δ causal | macro, mlm | Δ mlm |" in headline
    delta = made_up_summary.delta("antlm", "mlm", "macro").format()
    assert f"| {delta} |" in headline
    assert "| clm_only | `2_CLM` | 3 |" in headline and "| baseline |" in headline
    assert "| antlm | `0.5_CLM+1_MLM+0.5_CLM` | 2 | 2 |" in text  # epochs, seeds
