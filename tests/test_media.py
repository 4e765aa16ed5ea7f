"""Pictures with a question's label and beside its options: checked when the survey is
loaded, shown to respondents at their size once in view, served from the app's own origin."""

from __future__ import annotations

import gzip
import re
import struct
import zlib
from pathlib import Path

from survey_app import create_app
from survey_app.state import app_state
from tests.support.apps import deploy, make_settings
from tests.support.web import Respondent
from tests.test_surveys_cli import run as run_cli
from tests.test_xlsform import make_form

SURVEY = """\
format = 1

[survey]
id = "pics"
title = { en = "Pictures", fr = "Images" }
default_language = "en"
languages = ["en", "fr"]

[choices.mood]
options = [
  { value = "happy", label = { en = "Happy", fr = "Content" }, image = "faces/happy.png" },
  { value = "sad", label = { en = "Sad <3", fr = "Triste" }, image = { en = "faces/sad.png", fr = "faces/triste.png" } },
]

[[pages]]
id = "main"

[[pages.questions]]
id = "mood"
type = "single"
choices = "mood"
label = { en = "How do you feel today?", fr = "Comment allez-vous ?" }
image = "scene.png"

[[pages.questions]]
id = "note"
type = "text"
label = { en = "Anything else?", fr = "Autre chose ?" }
"""


def png(width: int, height: int) -> bytes:
    """A valid PNG of one colour."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def write_survey(folder: Path, files: dict[str, bytes], text: str = SURVEY) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pics.toml").write_text(text, encoding="utf-8")
    for name, data in files.items():
        path = folder / "media" / "pics" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return folder


PICTURES = {
    "scene.png": png(64, 32),
    "faces/happy.png": png(24, 24),
    "faces/sad.png": png(20, 24),
    "faces/triste.png": png(22, 24),
}


def test_pictures_are_shown_with_the_label_and_beside_options_and_served_here(
    tmp_path: Path, database_url: str
) -> None:
    surveys = write_survey(tmp_path / "surveys", {**PICTURES, "secret.png": png(1, 1)})
    app = create_app(make_settings(tmp_path, database_url, surveys_dir=str(surveys)))
    try:
        client = app.test_client()
        tab = Respondent(client, deploy(app).links["pics"])
        tab.start()
        page = tab.html
        media = app_state(app).surveys["pics"].media
        scene = client.get(f"/media/pics/scene.png?v={media['scene.png'].digest}")
        unnamed = client.get("/media/pics/secret.png")
        outside = client.get("/media/pics/../pics.toml")
        unknown = client.get("/media/nosuch/scene.png")
    finally:
        app_state(app).database.dispose()
    digest = media["scene.png"].digest
    assert (
        f'<img class="picture" src="/media/pics/scene.png?v={digest}" alt="How do you feel '
        f'today?" width="64" height="32" loading="lazy">'
    ) in page
    happy = media["faces/happy.png"].digest
    assert (
        f'<img class="picture" src="/media/pics/faces/happy.png?v={happy}" alt="Happy" '
        f'width="24" height="24" loading="lazy"> <span>Happy</span>'
    ) in page
    assert 'alt="Sad &lt;3" width="20"' in page  # the English picture, its label escaped
    assert "triste.png" not in page
    assert page.count("<img") == 3  # none for the question without a picture
    assert scene.status_code == 200 and scene.data == PICTURES["scene.png"]
    assert scene.headers["Content-Type"] == "image/png"
    assert scene.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert scene.headers["X-Content-Type-Options"] == "nosniff"
    assert "img-src 'self'" in scene.headers["Content-Security-Policy"]
    assert [unnamed.status_code, outside.status_code, unknown.status_code] == [404, 404, 404]


def test_the_french_page_shows_the_french_picture(tmp_path: Path, database_url: str) -> None:
    surveys = write_survey(tmp_path / "surveys", PICTURES)
    app = create_app(make_settings(tmp_path, database_url, surveys_dir=str(surveys)))
    try:
        tab = Respondent(app.test_client(), deploy(app).links["pics"])
        tab.start("fr")
        page = tab.html
    finally:
        app_state(app).database.dispose()
    assert 'src="/media/pics/faces/triste.png?v=' in page and 'alt="Triste"' in page


def test_check_refuses_a_missing_unsafe_or_heavy_picture(tmp_path: Path) -> None:
    files = {
        "scene.png": b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "faces/happy.png": png(24, 24)[:20],  # cut short: not a picture
        "faces/sad.png": png(20, 24) + b"\x00" * (600 * 1024),
    }
    surveys = write_survey(tmp_path / "surveys", files)
    code, output = run_cli("surveys", "check", surveys=surveys)
    assert code == 1
    assert (
        "question 'mood': image 'scene.png' is not a PNG, JPEG or WebP picture (SVG can carry "
        "scripts and is not served)"
    ) in output
    assert "choices.mood: image 'faces/happy.png' is not a PNG, JPEG or WebP picture" in output
    assert "image 'faces/sad.png' is 600 KB: at most 512 KB" in output
    assert "image 'faces/triste.png': no such file in" in output
    escaping = write_survey(
        tmp_path / "other", PICTURES, SURVEY.replace('"scene.png"', '"../../pics.toml"')
    )
    code, output = run_cli("surveys", "check", surveys=escaping)
    assert code == 1 and "image '../../pics.toml': name a file inside the survey's media" in output


def test_import_takes_the_forms_pictures_along_and_names_those_it_cannot(
    tmp_path: Path, database_url: str
) -> None:
    form_folder = tmp_path / "form"
    form_folder.mkdir()
    (form_folder / "happy face.png").write_bytes(png(30, 30))
    (form_folder / "sad.png").write_bytes(png(28, 30))
    (form_folder / "scene.svg").write_bytes(b"<svg><script>alert(1)</script></svg>")
    (form_folder / "ask.ogg").write_bytes(b"OggS" + bytes(60))
    form = make_form(
        form_folder,
        [
            [
                "type",
                "name",
                "label::English (en)",
                "media::image::English (en)",
                "required",
                "media::audio::English (en)",
            ],
            ["select_one mood", "mood", "How do you feel?", "scene.svg", "yes", "ask.ogg"],
            ["integer", "kids", "", "children.png", "yes", ""],
            ["note", "bye", "Thank you", "sad.png", "", ""],
        ],
        choices=[
            ["list_name", "name", "label::English (en)", "media::image::English (en)"],
            ["mood", "happy", "", "happy face.png"],
            ["mood", "sad", "Sad", "sad.png"],
            ["mood", "cross", "Cross", "cross.png"],
        ],
    )
    surveys = tmp_path / "surveys"
    code, output = run_cli("surveys", "import", str(form), surveys=surveys)
    assert code == 0, output
    assert (
        "note: survey row 2: the picture is not shown: image 'scene.svg' is not a PNG, JPEG or "
        "WebP picture (SVG can carry scripts and is not served); respondents see the text only"
    ) in output
    assert "note: survey row 3: the picture is not shown: image 'children.png': no such file" in (
        output
    )
    assert "question 'kids' is no longer required" in output  # what it asks cannot be seen
    assert "note: choices row 4: the picture is not shown: image 'cross.png'" in output
    assert (
        "note: choices row 2: warning: option 'happy' of list 'mood' is only a picture or sound "
        "(happy_face.png): it is shown with its name 'happy' as its text: give it a label"
    ) in output
    assert "3 pictures or sounds of labels and options copied into media/form/" in output
    copied = surveys / "media" / "form"
    assert sorted(p.name for p in copied.iterdir()) == ["ask.ogg", "happy_face.png", "sad.png"]
    app = create_app(make_settings(tmp_path, database_url, surveys_dir=str(surveys)))
    try:
        client = app.test_client()
        tab = Respondent(client, deploy(app).links["form"])
        tab.start()
        page = tab.html
        source = "/media/form/happy_face.png" + page.split("happy_face.png", 1)[1].split('"')[0]
        served = client.get(source)
    finally:
        app_state(app).database.dispose()
    assert 'alt="happy" width="30" height="30" loading="lazy"> <span>happy</span>' in page
    assert 'alt="Sad" width="28"' in page and 'alt="Thank you" width="28"' in page
    assert page.count("<img") == 3
    assert 'preload="none" src="/media/form/ask.ogg?v=' in page
    assert served.status_code == 200 and served.data == png(30, 30)


def test_a_sound_is_played_on_demand_from_here_and_checked_at_load(
    tmp_path: Path, database_url: str
) -> None:
    sound = b"ID3" + bytes(200)
    text = SURVEY.replace('image = "scene.png"', 'image = "scene.png"\naudio = "ask.mp3"').replace(
        'image = "faces/happy.png" }', 'image = "faces/happy.png", audio = "happy.mp3" }'
    )
    surveys = write_survey(
        tmp_path / "surveys", {**PICTURES, "ask.mp3": sound, "happy.mp3": sound}, text
    )
    app = create_app(make_settings(tmp_path, database_url, surveys_dir=str(surveys)))
    try:
        client = app.test_client()
        tab = Respondent(client, deploy(app).links["pics"])
        tab.start()
        page = tab.html
        digest = app_state(app).surveys["pics"].media["ask.mp3"].digest
        served = client.get(f"/media/pics/ask.mp3?v={digest}")
    finally:
        app_state(app).database.dispose()
    assert (
        f'<audio class="sound" controls preload="none" src="/media/pics/ask.mp3?v={digest}" '
        f'aria-label="How do you feel today?"></audio>'
    ) in page
    assert 'src="/media/pics/happy.mp3?v=' in page and 'aria-label="Happy"' in page
    assert served.status_code == 200 and served.data == sound
    assert served.headers["Content-Type"] == "audio/mpeg"
    assert "media-src 'self'" in served.headers["Content-Security-Policy"]
    broken = write_survey(
        tmp_path / "broken", {**PICTURES, "ask.mp3": b"not a sound", "happy.mp3": sound}, text
    )
    code, output = run_cli("surveys", "check", surveys=broken)
    assert code == 1
    assert "question 'mood': audio 'ask.mp3' is not an MP3, Ogg, WAV or M4A sound" in output


def test_a_page_with_pictures_stays_within_the_page_weight_budget_without_them(
    tmp_path: Path, database_url: str
) -> None:
    surveys = write_survey(tmp_path / "surveys", PICTURES)
    app = create_app(make_settings(tmp_path, database_url, surveys_dir=str(surveys)))
    try:
        client = app.test_client()
        tab = Respondent(client, deploy(app).links["pics"])
        tab.start()
        page = tab.html
        assets = sorted(set(re.findall(r'(?:src|href)="(/static/[^"]+)"', page)))
        weight = len(gzip.compress(page.encode(), 6))
        for asset in assets:
            reply = client.get(asset)
            weight += len(gzip.compress(reply.get_data(), 6))
            reply.close()
    finally:
        app_state(app).database.dispose()
    assert assets and page.count('loading="lazy"') == 3  # pictures come when in view
    assert weight <= 20 * 1024


def test_import_takes_pictures_from_the_folder_given_with_files(tmp_path: Path) -> None:
    pictures = tmp_path / "pictures"
    pictures.mkdir()
    (pictures / "happy.png").write_bytes(png(16, 16))
    form = make_form(
        tmp_path,
        [["type", "name", "label", "image"], ["text", "why", "Why?", "happy.png"]],
    )
    surveys = tmp_path / "surveys"
    code, output = run_cli("surveys", "import", str(form), surveys=surveys)
    assert code == 0 and "the picture is not shown: image 'happy.png': no such file" in output
    assert not (surveys / "media").exists()
    code, output = run_cli(
        "surveys", "import", str(form), "--files", str(pictures), "--force", surveys=surveys
    )
    assert code == 0, output
    assert (surveys / "media" / "form" / "happy.png").read_bytes() == png(16, 16)
    assert 'image = { en = "happy.png" }' in (surveys / "form.toml").read_text(encoding="utf-8")
