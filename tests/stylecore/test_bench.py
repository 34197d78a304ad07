import json
import re

from benchmarks.bench import OPTIMIZE_SIZE, PEER, PEER_MAX_SIZE, Case, peer_version, run_benchmarks, skip_reason


def test_it_skips_what_it_cannot_measure(tiny_weights):
    assert "refused" in skip_reason(Case("optimize", OPTIMIZE_SIZE * 2), tiny_weights, "0.1.0")
    assert skip_reason(Case("optimize", OPTIMIZE_SIZE), tiny_weights, "0.1.0") == ""
    assert "not installed" in skip_reason(Case("arbitrary", 512), tiny_weights, "0.1.0")
    assert "requirements-bench.txt" in skip_reason(Case("peer-builtin", 512), tiny_weights, None)
    assert skip_reason(Case("fast-onnx", 512), tiny_weights, None) == ""
    assert "does not tile" in skip_reason(Case("peer-builtin", PEER_MAX_SIZE * 2), tiny_weights, "0.1.0")
    assert skip_reason(Case("fast-onnx", PEER_MAX_SIZE * 2), tiny_weights, "0.1.0") == ""


def test_it_writes_a_benchmark_report(tiny_weights, tiny_run, tmp_path):
    output = run_benchmarks(tiny_weights, tmp_path / "docs" / "benchmarks.md", sizes=[64], repeats=1,
                            content_dir=tiny_run.parent / "content", threads=1, quality_photos=2)
    report = output.read_text()
    for label in ("fast, ONNX Runtime", "fast, PyTorch eager", "optimize (Gatys)"):
        assert re.search(rf"\| {re.escape(label)} \| 64² \| \d+\.\d{{3}} \| \d+ \|", report), label
    assert "| arbitrary | 64² | — | — | not installed" in report
    assert re.search(r"- cores: \d+\n", report) and "- onnxruntime: " in report
    for moment in ("before the latency cases", "after them"):
        assert re.search(rf"- speed {moment}: float32 matmul [1-9]\d* GFLOP/s, memory copy \d+\.\d GB/s\n", report)
    assert "| The Starry Night (`starry_night`) | ours, fast | 0." in report
    table = json.loads(output.with_suffix(".json").read_text())
    assert table["engine_methods"] == {"fast": "fast-onnx", "arbitrary": "arbitrary", "optimize": "optimize"}
    assert table["written"] in report and table["machine"]["cores"] in report
    cases = {case["case"]: case for case in table["cases"]}
    assert cases["fast-onnx"]["width"] == cases["fast-onnx"]["height"] == 64
    assert cases["fast-onnx"]["seconds"] > 0 and cases["fast-onnx"]["peak_rss_mib"] > 0
    assert cases["arbitrary"]["seconds"] is None and cases["arbitrary"]["note"].startswith("not installed")
    if peer_version() is None:
        assert f"{PEER} not installed" in report
    else:
        assert re.search(rf"\| {PEER}, built-in style 0 \| 64² \| \d+\.\d{{3}} \| \d+ \|", report)
        assert f"| The Great Wave off Kanagawa (`great_wave`) | {PEER}, arbitrary | 0." in report


def test_its_command_line_shows_help_for_every_command(capsys):
    import pytest

    from benchmarks.cli import main

    for command in ("bench", "compare", "grid"):
        with pytest.raises(SystemExit) as exit_info:
            main([command, "--help"])
        assert exit_info.value.code == 0
        assert f"benchmarks {command}" in capsys.readouterr().out
