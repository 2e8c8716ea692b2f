"""The learned line model's benchmark parts (benchmarks/linedata.py, linemodel.py, train_lines.py):
dumps in three styles, line labels, the fit, and the hook that lets `clean_text` use a decider."""

from __future__ import annotations

import numpy as np

from benchmarks.linedata import dump_styles, label_lines
from benchmarks.linemodel import CONTEXT_FEATURES, FEATURES, context_features, decider
from benchmarks.train_lines import _fit_rows, _row_lines, fit
from newsdex.transforms.boilerplate import clean_text, split_lines

ARTICLE = [
    "The city council voted on Tuesday to expand the night bus network to the northern suburbs.",
    "Officials said the new routes would start in March and cost about four million a year to run.",
    "Residents of the outer districts had asked for later services for more than a decade.",
    "The mayor said the vote showed the council was listening to people who work late shifts.",
]
PAGE = (
    "<html><head><title>Night buses for the suburbs</title>"
    '<meta name="description" content="The council votes to expand night buses.">'
    '<meta property="article:published_time" content="2024-03-05T10:00:00Z">'
    '<meta name="keywords" content="transport, council, buses"></head><body>'
    "<nav><ul>" + "".join(f"<li><a href='https://example.org/s/{n}/x'>Section {n}</a></li>" for n in range(25)) + "</ul></nav>"
    "<article><h1>Night buses for the suburbs</h1>" + "".join(f"<p>{p}</p>" for p in ARTICLE) + "</article>"
    "<footer><p>Contact us</p><p>Jobs</p></footer></body></html>"
)  # fmt: skip


def test_dumps_in_three_styles_are_labelled_against_the_article() -> None:
    styles = dump_styles(
        "page-1", PAGE, "https://example.org/news/night-buses", ["Floods close the coast road"]
    )
    assert set(styles) == {"naive", "flattened", "furniture"}
    # Seeded: the same page gives the same dumps.
    assert styles == dump_styles(
        "page-1", PAGE, "https://example.org/news/night-buses", ["Floods close the coast road"]
    )
    flattened, _ = styles["flattened"]
    assert flattened.startswith("date 2024-03-05 https://example.org/news/night-buses")
    furniture, added = styles["furniture"]
    assert added and all(line in furniture for line in added)
    for dump, added in styles.values():
        lines = split_lines(dump)
        labels = label_lines(lines, "\n".join(ARTICLE), added)
        by_line = dict(zip(lines, labels, strict=True))
        for paragraph in ARTICLE:
            # A paragraph may be glued to its neighbour in the flattened style: then the glued line is article.
            line = next(line for line in lines if paragraph[:40] in line)
            assert by_line[line] == 1, (line, dump[:200])
        assert by_line["Section 7"] == 0
        assert all(by_line[line] == 0 for line in added)


def test_logistic_fit_separates_and_is_deterministic() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 3))
    y = (x[:, 0] - 0.5 * x[:, 1] > 0).astype(float)
    w = np.ones(len(y))
    first = fit(x, y, w)
    again = fit(x, y, w)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    _, _, beta = first
    assert beta[1] > 0 > beta[2]  # the sign of each feature's effect is learned


def test_a_trained_decider_only_decides_lines_in_a_flattened_page() -> None:
    rows = []
    for n in range(4):
        for dump, added in dump_styles(
            f"p{n}", PAGE, f"https://example.org/n/{n}", ["Floods close the road"]
        ).values():
            lines = split_lines(dump)
            rows.append({"lines": lines, "labels": label_lines(lines, "\n".join(ARTICLE), added)})
    model = _fit_rows([_row_lines(r) for r in rows])
    assert model["features"] == list(FEATURES + CONTEXT_FEATURES)
    decide = decider(model)
    page_dump = dump_styles("p9", PAGE, "https://example.org/n/9", ["Floods close the road"])["flattened"][0]
    body = clean_text(page_dump, line_decider=decide).body
    assert all(p[:40] in body for p in ARTICLE)
    assert "Section 3" not in body
    # Clean text is never handed to the decider: a decider that keeps nothing changes nothing.
    story = "Night buses for the suburbs\n\n" + "\n\n".join(ARTICLE)
    assert clean_text(story, line_decider=lambda *a: set()).body == clean_text(story).body


def test_context_features_mark_the_best_run() -> None:
    features = context_features([-2.0, 3.0, 2.0, 2.5, -3.0, 1.0], [1.0] * 6)
    assert [f[3] for f in features] == [0.0, 1.0, 1.0, 1.0, 0.0, 0.0]  # in the run that sums highest
    assert features[0][4] == 1.0 and features[5][5] == 1.0  # before it / after it
