"""intensity.output: the one way outputs are written (atomic, through links, never onto inputs)."""
from __future__ import annotations

import os

import pytest

from intensity.output import OutputError, check_output, locked, write_atomic


def test_write_atomic_replaces_the_target_and_leaves_no_partial_file(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("old")
    os.chmod(target, 0o640)
    write_atomic(target, "new")
    assert target.read_text() == "new" and oct(target.stat().st_mode & 0o777) == "0o640"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_an_output_inside_an_input_folder_is_refused(tmp_path):
    (tmp_path / "data").mkdir()
    with pytest.raises(OutputError, match="is an input of this command"):
        check_output(tmp_path / "data" / "x.json", inputs=[tmp_path / "data"])


def test_a_dangling_link_is_written_through_to_its_target(tmp_path):
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "target.txt")
    write_atomic(link, "x")
    assert link.is_symlink() and (tmp_path / "target.txt").read_text() == "x"


def test_a_second_writer_is_refused_while_the_first_holds_the_lock(tmp_path):
    with locked(tmp_path / "run", "run"), pytest.raises(OutputError, match="being written by another process"):
        with locked(tmp_path / "run", "run"):
            pytest.fail("a second writer got the lock")
    with locked(tmp_path / "run") as target:  # released: a new writer gets the lock
        assert target == (tmp_path / "run").resolve()


def test_a_lock_nested_in_the_same_thread_is_held_once_and_others_are_still_refused(tmp_path):
    import threading

    from intensity.output import OutputError, locked
    run = tmp_path / "run"
    refused = []

    def other_thread():
        try:
            with locked(run, "run directory"):
                refused.append(False)  # got the lock: the assertion below fails
        except OutputError:
            refused.append(True)

    with locked(run, "run folder", handing_on=True), locked(run, "run directory"):  # a sweep point, its trainer
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
    assert refused == [True]
    with locked(run) as target:  # released: free again
        assert target == run.resolve()


def test_a_data_folder_takes_new_files_but_keeps_its_own(tmp_path):
    from intensity.output import OutputError, check_output

    (tmp_path / "README.md").write_text("theirs")
    assert check_output(tmp_path / "survey.json", data_folders=[tmp_path]) == (tmp_path / "survey.json").resolve()
    with pytest.raises(OutputError, match="already exists in the data folder"):
        check_output(tmp_path / "README.md", data_folders=[tmp_path])
    assert (tmp_path / "README.md").read_text() == "theirs"
