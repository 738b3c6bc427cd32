"""The Models tab: one table of every built-in model and run, and each model's card."""

import pytest
from gradio_client import Client

from aigc.catalog import builtin_models
from aigc.ui import models_tab


@pytest.fixture(scope="module")
def client(app_url):
    return Client(app_url, verbose=False)


def test_the_table_lists_every_shipped_model_with_quality_beside_its_real_data_baseline():
    table = models_tab.overview().set_index("Model")
    shipped = {m.name for m in builtin_models()}
    assert shipped <= set(table.index)
    for name in shipped:
        row = table.loc[name]
        assert row["Source"] == "built in" and row["Parameters"].endswith(" M")
        assert row["Quality (real data)"] != "not measured yet", name
    # where real data has the same measure, it is shown in brackets beside the model's
    assert "(" in table.loc["dcgan-digits", "Quality (real data)"] and "images/s" in table.loc["dcgan-digits", "Speed"]
    assert table.loc["shakespeare-gpt", "Quality (real data)"].startswith("held-out perplexity")


def test_a_card_comes_with_its_samples_and_the_command_that_retrains_it(client):
    card, samples = client.predict("cgan-digits", api_name="/model_card")
    assert "python -m aigc train cgan --dataset digits" in card and "| metric | value |" in card
    assert "![" not in card and samples.endswith(".png")
    with pytest.raises(Exception, match="Unknown model"):
        client.predict("../../etc/passwd", api_name="/model_card")
