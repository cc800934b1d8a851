"""English live chat, read by word order (livecompanion/ingest/comments/english.py).

Every text below is a recorded viewer comment from `en-dev` in tests/ingest/data/comments_real.jsonl
(Twitch channel dorozea, balintkardos/ChatlogDorozea `[7-20-24].txt` @28cfe5e7, and a YouTube replay,
xenova/chat-downloader `examples/[YouTube] Get live chat replay.txt` @8dc741c4); the line is in each
case's id. The labels follow the English rules in docs/comments-eval.md. Each case marked `main`
failed at main 413bec2 / 235d1ee, where English questions were seen only with a question word in first
position and a clause before "?" counted as one character.
"""

from __future__ import annotations

import importlib

import pytest

from livecompanion.ingest.comments import classify_comment
from tests.load_script import load_script

EVAL = load_script("eval_comments")
COMMENTS = importlib.import_module("livecompanion.ingest.comments")

CASES = [
    # questions the Chinese-shaped rules missed (main)
    ("doro how was resident evil  3?", "question", "dorozea#13"),
    ("whats plan for today", "question", "dorozea#35"),
    ("@klimzaa fr? isnt it just a free press with a button", "question", "dorozea#37"),
    ("WAIT what are you uploading rn... PauseChamp", "question", "dorozea#43"),
    ("@1206paul_ dude will u ever upload the 20 min tiktok", "question", "dorozea#45"),
    ("Tomorrow is first time Dota 2 day? CaitlynS", "question", "dorozea#167"),
    (":_TechnoStare:what is dis emote", "question", "youtube-techno#19"),
    ("In how long?", "question", "youtube-techno#52"),
    # requests and statements the old English list called questions (main)
    ("Can someone wake up Riot?", "chat", "dorozea#65"),
    ("can u show us ur outfit?", "chat", "dorozea#74"),
    ("Can't wait to see everyone getting tilted cuz techno and dream are in the same team", "chat",
     "youtube-techno#6"),
    # self-promotion without a link (main: chat)
    ("shout out my latest instagram reel", "spam", "dorozea#90"),
    # guards: right on main too
    ("did u fix the notifications", "question", "dorozea#72"),
    ("What time is it there?", "question", "dorozea#124"),
    ("whats up sigma", "chat", "dorozea#15"),
    ("LEAUGE?", "chat", "dorozea#27"),
    ("FIRST TIME?!", "chat", "dorozea#118"),
    ("league simp?", "chat", "dorozea#137"),
    ("Morse code?", "chat", "dorozea#164"),
    ("Test, add me on roblox coward", "chat", "dorozea#83"),
    ("you are the fucking worst at reacting", "chat", "dorozea#195"),
    ("chat is over your cam btw", "chat", "dorozea#208"),
    ("!title NOOB PLAYING LEAGUE FOR THE FIRST TIME | !newvid !vods 😱😳🔴", "chat", "dorozea#63"),
]
# en-holdout rows (Twitch nightblue3, Zirke/twitch_chat `twitchlogs.txt` @12543113), read after its one
# scoring: two bugs found there, fixed afterwards (docs/comments-eval.md).
READ_AFTER_SCORING = [
    ("!song", "chat", "nightblue3#99"),  # a bot command, not the bare attribute "song"
    ("Hasta la vistaI'm looking for a señoritaMexican, BrazilianNicaraguan, that's what I meant", "chat",
     "nightblue3#184"),  # a wh-word inside a later clause
    ("Follow me", "spam", "nightblue3#593"),
    ("whats this song called", "question", "nightblue3#125"),
    ("@Nightblue3 is there a way to suggest music?", "question", "nightblue3#108"),
]


@pytest.mark.parametrize(("text", "label", "where"), CASES + READ_AFTER_SCORING,
                         ids=[c[2] for c in CASES + READ_AFTER_SCORING])
def test_recorded_english_comment(text: str, label: str, where: str) -> None:
    kind = classify_comment(text).kind
    assert ("chat" if kind == "chitchat" else kind) == label, where


def test_the_cases_are_recorded_rows_with_their_labels() -> None:
    rows = {r["text"]: r for r in EVAL.load_rows() if r["split"] in ("en-dev", "en-holdout")}
    for text, label, _ in CASES + READ_AFTER_SCORING:
        assert text in rows and rows[text]["label"] == label, text


def test_en_dev_figures() -> None:
    """Floors a little under the figures on en-dev (0.947 / 1.000, spam 1 of 1); main gave 0.667 / 0.333
    and spam 0 of 1. It is the part the reader was written from: the held-out figure is in the docs."""
    rows = [r for r in EVAL.load_rows() if r["split"] == "en-dev"]
    result = EVAL.classification(COMMENTS, rows)
    q, s = result["classes"]["question"], result["classes"]["spam"]
    assert q["precision"] >= 0.9 and q["recall"] >= 0.9, q
    assert s["recall"] == 1.0, s


def test_a_latin_attribute_in_a_chinese_room_still_asks() -> None:
    assert classify_comment("bgm").kind == "question"  # holdout9, Douyu: asks for the song



def test_en_holdout_figures_after_its_reading() -> None:
    """en-holdout after its one scoring (0.470 / 0.907) and the two bug fixes read from it: 0.542 / 0.907
    (in-sample from then on). main gave 0.553 / 0.488: the recall floor fails there."""
    rows = [r for r in EVAL.load_rows() if r["split"] == "en-holdout"]
    q = EVAL.classification(COMMENTS, rows)["classes"]["question"]
    assert q["precision"] >= 0.5 and q["recall"] >= 0.88, q
