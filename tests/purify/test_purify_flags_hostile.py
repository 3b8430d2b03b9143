"""Purification flags a mode would ignore are refused, not dropped without a word."""

import pytest

from ipv2.cli.main import main

MOTION_FLAGS = [["--stitch-blend", "5"], ["--no-lung-field"], ["--no-agreed-background"], ["--lung-field"]]


@pytest.mark.parametrize("mode", ["ipv1", "ipv2"])
@pytest.mark.parametrize("flag", MOTION_FLAGS)
def test_motion_rules_outside_ipv2m_are_refused_before_any_work(pair_dir, tmp_path, capsys, mode, flag):
    out = tmp_path / "purified"
    code = main(
        [
            "purify",
            "--lq",
            str(pair_dir / "train_input.nrrd"),
            "--gt",
            str(pair_dir / "train_target.nrrd"),
            "--out",
            str(out),
            "--mode",
            mode,
            "--progress",
            "none",
            *flag,
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"--mode {mode} has none and would ignore it" in err
    assert " ".join(flag) in err
    assert not out.exists()


def test_motion_rules_reach_ipv2m():
    import argparse

    from ipv2.cli import purify as purify_cli

    parser = argparse.ArgumentParser()
    purify_cli.register(parser.add_subparsers())
    args = parser.parse_args(
        ["purify", "--lq", "a", "--gt", "b", "--out", "c", "--mode", "ipv2m", "--stitch-blend", "5", "--no-lung-field"]
    )
    options = purify_cli._options(args)
    assert (options.stitch_blend_px, options.lung_field, options.agreed_background) == (5, False, True)
    defaults = purify_cli._options(
        parser.parse_args(["purify", "--lq", "a", "--gt", "b", "--out", "c", "--mode", "ipv1"])
    )
    assert defaults.motion_rules is None
