

def test_ctrl_c_says_what_was_kept_and_exits_130(capsys):
    import pytest
    import typer

    from intensity.cli._app import guarded

    def interrupted() -> None:
        raise KeyboardInterrupt

    with pytest.raises(typer.Exit) as stop:
        guarded(interrupted)
    assert stop.value.exit_code == 130
    err = capsys.readouterr().err
    assert err.startswith("interrupted: ") and "--resume" in err and "rerun the same command" in err
    assert "Traceback" not in err
