"""Every CLI option is checked before work starts: a bad value gets exactly one line on
stderr naming the option and the value, exit status 2, and never a traceback."""

import argparse
import dataclasses
import stat
import subprocess
import sys

import pytest
from unprivileged import run_unprivileged

from tinygrad_nd import cli

# option -> bad values, for every subcommand that has the option
BAD_VALUES = {
    "--epochs": ["-1", "2.5", "ten"],
    "--seeds": ["0", "-2"],
    "--images": ["0", "-5", "1e3"],
    "--batch-size": ["0", "-1", "1.5"],
    "--chain-length": ["0", "-3"],
    "--width": ["0"],
    "--hidden": ["0"],
    "--steps": ["0"],
    "--depths": ["0", "-1"],
    "--seed": ["-1", "x"],
    "--eta": ["0", "-0.1", "nan", "inf", "abc"],
    "--lr": ["0", "-1", "nan"],
    "--adam-lr": ["0", "-1e-3"],
    "--lmbda": ["-1", "nan"],
    "--clip": ["0", "-1"],
    "--init-std": ["0"],
    "--weight": ["nan", "inf", "heavy"],
    "--dataset": ["cifar", ""],
}


def _cases():
    for command, (config, _, _) in sorted(cli.EXPERIMENTS.items()):
        flags = {"--" + f.name.replace("_", "-") for f in dataclasses.fields(config)}
        for flag, values in BAD_VALUES.items():
            if flag in flags:
                for value in values:
                    yield command, flag, value


def run_cli(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    err = capsys.readouterr().err
    return exit_info.value.code, err


def assert_one_line(err, *fragments):
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


@pytest.mark.parametrize("command,flag,value", list(_cases()))
def test_bad_option_values(command, flag, value, tmp_path, capsys):
    code, err = run_cli([command, "--out", str(tmp_path / "r"), f"{flag}={value}"], capsys)
    assert code == 2
    assert_one_line(err, f"tinygrad-nd {command}: error: argument {flag}", repr(value)[1:-1])
    assert not (tmp_path / "r").exists()  # no work started


def test_every_numeric_field_is_checked():
    # A new config field gets a checking type, never a bare int/float (which accepts -1, nan).
    for command, (config, _, _) in cli.EXPERIMENTS.items():
        for f in dataclasses.fields(config):
            if f.name != "dataset":
                assert cli._field_type(command, f) in (
                    cli.positive_int, cli.non_negative_int, cli.positive_float,
                    cli.non_negative_float, cli.finite_float), (command, f.name)


def test_vanishing_zero_epochs_means_at_initialisation_only():
    namespace = cli.build_parser().parse_args(["vanishing", "--epochs", "0"])
    assert namespace.epochs == 0
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["depth", "--epochs", "0"])


@pytest.mark.parametrize("dataset,images", [("digits", "5000"), ("digits", "10000"),
                                            ("fashion", "60001"), ("mnist", "99999")])
def test_images_beyond_the_dataset(dataset, images, tmp_path, capsys):
    code, err = run_cli(["depth", "--out", str(tmp_path), "--dataset", dataset,
                         "--images", images], capsys)
    assert code == 2
    assert_one_line(err, "argument --images", f"--dataset {dataset}", images)


@pytest.mark.parametrize("command", sorted(cli.EXPERIMENTS) + ["graph"])
def test_out_under_a_regular_file(command, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    out = blocker / ("sub/graph.svg" if command == "graph" else "sub")
    argv = ["graph", "mlp", "--out", str(out)] if command == "graph" else [command, "--out",
                                                                           str(out)]
    code, err = run_cli(argv, capsys)
    assert code == 2
    assert_one_line(err, "argument --out", str(out), "is a file")


def test_out_that_is_a_file(tmp_path, capsys):
    out = tmp_path / "report"
    out.write_text("")
    code, err = run_cli(["exploding", "--out", str(out)], capsys)
    assert code == 2
    assert_one_line(err, "argument --out", str(out))


def test_out_in_an_unwritable_folder(open_tmp_path, capsys):
    locked = open_tmp_path / "locked"
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH
                 | stat.S_IXOTH)

    def attempt():
        code, err = run_cli(["depth", "--out", str(locked / "r")], capsys)
        assert code == 2
        assert_one_line(err, "argument --out", "not writable")

    try:
        run_unprivileged(attempt)  # (as root, in a child that drops to nobody)
    finally:
        locked.chmod(stat.S_IRWXU)


def test_unwritable_check_with_a_fake_access(tmp_path, capsys, monkeypatch):
    # As root the real check cannot fail, so fake what os.access reports for a locked folder.
    monkeypatch.setattr(cli.os, "access", lambda path, mode: False)
    code, err = run_cli(["depth", "--out", str(tmp_path / "r")], capsys)
    assert code == 2
    assert_one_line(err, "argument --out", str(tmp_path), "not writable")


@pytest.mark.parametrize("argv,fragment", [
    (["graph", "mlp", "--out", "graph.txt"], "must end in one of"),
    (["graph", "mlp", "--max-nodes", "0"], "argument --max-nodes"),
    (["graph", "mlp", "--max-nodes", "many"], "argument --max-nodes"),
    (["nosuch"], "invalid choice: 'nosuch'"),
    ([], "the following arguments are required"),
    (["depth", "--no-such-option", "1"], "unrecognized arguments"),
])
def test_other_usage_errors_are_one_line(argv, fragment, capsys):
    code, err = run_cli(argv, capsys)
    assert code == 2
    assert_one_line(err, fragment)


def test_graph_out_that_is_a_folder(tmp_path, capsys):
    folder = tmp_path / "g.svg"
    folder.mkdir()
    code, err = run_cli(["graph", "mlp", "--out", str(folder)], capsys)
    assert code == 2
    assert_one_line(err, "argument --out", "is a folder")


def test_runtime_value_error_is_one_line(tmp_path, capsys, monkeypatch):
    def broken(out, cfg):
        raise ValueError("something the checks could not foresee\nsecond line")

    monkeypatch.setitem(cli.EXPERIMENTS, "depth", (cli.EXPERIMENTS["depth"][0], broken, ""))
    assert cli.main(["depth", "--out", str(tmp_path)]) == 2
    assert_one_line(capsys.readouterr().err, "tinygrad-nd depth: something", "second line")


@pytest.mark.parametrize("text,expected", [("3", 3), ("0", None), ("-1", None), ("3.0", None)])
def test_positive_int(text, expected):
    if expected is None:
        with pytest.raises(argparse.ArgumentTypeError, match=repr(text)):
            cli.positive_int(text)
    else:
        assert cli.positive_int(text) == expected


def test_subprocess_has_no_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "tinygrad_nd.cli", "depth", "--epochs", "-1",
                           "--out", str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("tinygrad-nd depth: error: argument --epochs: must be a "
                                   "positive integer, got '-1'")
