"""``python -m pipeline voice score``: scores a file's texts against a data folder, or says what is wrong."""

from conftest import last_json, run_cli
from support.paths import EXAMPLES

from pipeline.data.build import BuildSettings, build_dataset


def test_voice_score_scores_another_persona_and_refuses_bad_input(tmp_path, tiny_model_dir):
    data = tmp_path / "data"
    build_dataset([EXAMPLES / "posts.csv"], data, BuildSettings(model=str(tiny_model_dir), negatives="rule",
                                                                test_frac=0.1))
    result = run_cli("voice", "score", "--data", str(data), "--input", str(EXAMPLES / "persona_alpaca.json"),
                     "--model", str(tiny_model_dir), "--bootstrap", "50", "--max-per-side", "40", "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    summary = last_json(result.stdout)
    assert summary["auc"] > 0.8 and summary["score"] is not None and summary["score"] < 0.3, summary
    assert "not yet" in summary["verdict"] and len(summary["texts"]) > 10
    assert all(0 <= row["p_author"] <= 1 for row in summary["texts"])
    assert "floor: other people" in result.stderr and "ceiling" in result.stderr  # progress

    missing = run_cli("voice", "score", "--data", str(tmp_path / "nowhere"), "--input", str(EXAMPLES / "posts.csv"))
    assert missing.returncode == 2 and missing.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "posts.jsonl" in missing.stderr and "Traceback" not in missing.stderr
