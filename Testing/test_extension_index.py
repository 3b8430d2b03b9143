"""The Extensions Index entry passes the index's checks that run without a network.

A submission is one `IPv2.json` at the root of Slicer/ExtensionsIndex. The index validates it
against the catalog-entry schema v1.0.2 (check-jsonschema in its pre-commit), formats it with
prettier and prettier-plugin-multiline-arrays at threshold 0 (every array on several lines),
and its scripts/check_description_files.py clones the repository and checks: LF line endings;
the top-level CMakeLists.txt's project() name equals the JSON file's name; EXTENSION_ICONURL
and EXTENSION_SCREENSHOTURLS are found as literal quoted strings in that file and start with
"http" (then downloaded as images); a licence file in the repository root; the repository
name starts with "Slicer" unless an exception is granted; the scm_url scheme is git or https.
Those rules are encoded here (the schema's rules too, as a schema of our own), the downloads
replaced by the files the URLs name in this repository. IPv2.s4ext, which older Slicer
builds read, must say what the CMake metadata says.
"""

import json
import re
import urllib.parse
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]
ENTRY = REPOSITORY / "ExtensionsIndex" / "IPv2.json"
CMAKE = REPOSITORY / "CMakeLists.txt"
SCHEMA_URL = (
    "https://raw.githubusercontent.com/Slicer/Slicer/main/Schemas/slicer-extension-catalog-entry-schema-v1.0.2.json#"
)
# The rules of the catalog-entry schema v1.0.2 (Slicer's Schemas/ folder, also the index's schemas/).
CATALOG_ENTRY_RULES = {
    "type": "object",
    "required": ["$schema", "category", "scm_url"],
    "additionalProperties": False,
    "properties": {
        "$schema": {"type": "string"},
        "category": {"type": "string"},
        "scm_url": {"type": "string"},
        "scm_revision": {"type": "string"},
        "scm_type": {"type": "string", "enum": ["git", "local"]},
        "build_dependencies": {"type": "array", "items": {"type": "string"}},
        "dicom_support_rule": {"type": "string"},
        "build_subdirectory": {"type": "string"},
        "enabled": {"type": "boolean"},
        "tier": {"type": "integer", "minimum": 1, "maximum": 5},
    },
}
LICENSE_FILE_NAMES = ("LICENSE", "LICENCE", "License.txt", "license.txt", "LICENSE.txt", "COPYING", "COPYING.txt")
REPOSITORY_NAME_PREFIXES = ("Slicer", "Slicer-", "Slicer_", "SlicerExtension-", "SlicerExtension_")


def entry():
    return json.loads(ENTRY.read_text(encoding="utf-8"))


def cmakeText():
    return CMAKE.read_text(encoding="utf-8")


def cmakeMetadata():
    """The EXTENSION_* values set in the top-level CMakeLists.txt, quoted or not."""
    values = {}
    for name, quoted, bare in re.findall(
        r'^\s*set\(\s*(EXTENSION_\w+)\s+(?:"([^"]*)"|([^\s)]+))\s*\)', cmakeText(), flags=re.MULTILINE
    ):
        values[name] = quoted or bare
    return values


def s4extValues():
    values = {}
    for line in (REPOSITORY / "IPv2.s4ext").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition(" ")
            values[key] = value.strip()
    return values


def test_the_entry_satisfies_the_catalog_entry_schema_v1_0_2():
    import jsonschema

    jsonschema.validate(entry(), CATALOG_ENTRY_RULES)
    assert entry()["$schema"] == SCHEMA_URL


def test_the_schema_rules_refuse_what_the_index_refuses():
    import jsonschema

    for broken in (
        {**entry(), "homepage": "https://example.org"},
        {**entry(), "tier": 6},
        {key: value for key, value in entry().items() if key != "scm_url"},
        {**entry(), "build_dependencies": "PyTorch"},
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, CATALOG_ENTRY_RULES)


def prettierJson(value):
    """What prettier writes for a JSON file of flat values, with multiline-arrays at threshold 0."""
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def test_the_entry_is_formatted_as_the_index_prettier_writes_it():
    raw = ENTRY.read_bytes()
    assert b"\r" not in raw and b"\t" not in raw, "LF line endings and no tabs"
    assert raw.decode("utf-8") == prettierJson(entry())
    assert '"build_dependencies": [\n    "PyTorch"\n  ]' in raw.decode("utf-8")


def test_the_project_name_is_the_entry_name_and_not_slicer_prefixed():
    projects = re.findall(r"^\s*project\s*\(\s*([^\s)]+)", cmakeText(), flags=re.MULTILINE | re.IGNORECASE)
    assert projects and projects[0].strip("\"'") == ENTRY.stem
    assert not ENTRY.stem.lower().startswith("slicer")


@pytest.mark.parametrize("variable", ["EXTENSION_ICONURL", "EXTENSION_SCREENSHOTURLS"])
def test_image_urls_are_literal_and_name_images_of_the_repository(variable):
    matches = re.findall(rf'set\s*\({variable}\s*"([^"]+)"\s*\)', cmakeText(), flags=re.IGNORECASE)
    assert len(matches) == 1, f"{variable} must be set once, as one quoted literal"
    homepage = cmakeMetadata()["EXTENSION_HOMEPAGE"]
    filesUrl = homepage.replace("https://github.com/", "https://raw.githubusercontent.com/") + "/main/"
    for url in matches[0].split():
        assert url.startswith("http") and "${" not in url
        assert url.startswith(filesUrl), f"{url} is not a file of {homepage} on main"
        image = REPOSITORY / url[len(filesUrl) :]
        assert image.is_file(), f"{url} names no file of the repository"
        assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{url} is not a PNG image"


def test_the_licence_is_apache_2_in_the_root_and_packaged():
    licences = [name for name in LICENSE_FILE_NAMES if (REPOSITORY / name).is_file()]
    assert licences == ["LICENSE"]
    text = (REPOSITORY / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text and "END OF TERMS AND CONDITIONS" in text
    assert re.search(r'^license = "Apache-2.0"$', (REPOSITORY / "pyproject.toml").read_text(), flags=re.MULTILINE)
    assert cmakeMetadata()["EXTENSION_LICENSE_FILE"] == "${CMAKE_CURRENT_SOURCE_DIR}/LICENSE"


def test_the_repository_name_has_the_slicer_prefix_or_the_argued_exception():
    repositoryName = Path(urllib.parse.urlsplit(entry()["scm_url"]).path).stem
    assert urllib.parse.urlsplit(entry()["scm_url"]).scheme in ("git", "https")
    if repositoryName.startswith(REPOSITORY_NAME_PREFIXES):
        return
    docs = (REPOSITORY / "docs" / "slicer.md").read_text(encoding="utf-8")
    section = docs.split("### Repository name", 1)[-1].split("\n#", 1)[0]
    assert "### Repository name" in docs and f"`{repositoryName}`" in section and "exception" in section, (
        "a repository name without the Slicer prefix needs the exception argued in docs/slicer.md"
    )


def test_the_entry_and_the_s4ext_say_what_cmake_says():
    metadata, s4ext, catalog = cmakeMetadata(), s4extValues(), entry()
    for key in (
        "HOMEPAGE",
        "CATEGORY",
        "CONTRIBUTORS",
        "DESCRIPTION",
        "ICONURL",
        "SCREENSHOTURLS",
        "STATUS",
        "DEPENDS",
        "BUILD_SUBDIRECTORY",
    ):
        assert s4ext[key.lower()] == metadata[f"EXTENSION_{key}"], f"IPv2.s4ext '{key.lower()}' differs from CMake"
    assert catalog["category"] == metadata["EXTENSION_CATEGORY"]
    assert catalog["build_dependencies"] == metadata["EXTENSION_DEPENDS"].split()
    assert catalog["build_subdirectory"] == metadata["EXTENSION_BUILD_SUBDIRECTORY"]
    assert catalog["scm_url"] == s4ext["scmurl"] == metadata["EXTENSION_HOMEPAGE"] + ".git"
    assert catalog["scm_revision"] == s4ext["scmrevision"]
