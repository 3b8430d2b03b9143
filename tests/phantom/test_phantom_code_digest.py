"""The digest that names kept phantom pairs follows the phantom's code."""

from ipv2.phantom.code_digest import phantom_code_digest


def test_the_digest_changes_with_a_file_and_only_then(tmp_path):
    (tmp_path / "anatomy.py").write_text("RIBS = 12\n")
    (tmp_path / "notes.txt").write_text("not code")
    first = phantom_code_digest(folder=tmp_path)
    assert len(first) == 12 and int(first, 16) >= 0
    (tmp_path / "notes.txt").write_text("still not code")
    assert phantom_code_digest(folder=tmp_path) == first
    (tmp_path / "anatomy.py").write_text("RIBS = 11\n")
    assert phantom_code_digest(folder=tmp_path) != first


def test_the_package_digest_is_stable():
    assert phantom_code_digest() == phantom_code_digest() and len(phantom_code_digest(20)) == 20
