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

# Second English round (i18-qen): rows of the English dev parts (en-holdout after its reading; en-dev2,
# Twitch dorozea 2024-08-05, ChatlogDorozea `[8-5-24].txt` @ab19a343). Each case marked `main` fails at
# main 7acb1d7, before this round.
SECOND_ROUND = [
    # irony emotes make a taunt of a question's form (main)
    ("demoralized or tilted? Kappa", "chat", "nightblue3#333"),
    ("How many were Russian bots? Clueless", "chat", "dorozea-0805#76"),
    # "why" straight before "you", the auxiliary dropped, blames (main)
    ("why you feeding doe", "chat", "nightblue3#283"),
    ("why u dont pick a late game carry? -.- cant understand with that comp u pick elise", "chat",
     "nightblue3#215"),
    # no subject after the auxiliary: "we're", advice, a request for a game (main)
    ("were on a whole other level baby", "chat", "youtube-drdisrespect#42"),
    ("should smack them down", "chat", "nightblue3#691"),
    ("@nightblue3 could we see a nidalee game?", "chat", "nightblue3#421"),
    ("what is up doro", "chat", "dorozea-0805#17"),
    # asked without a question word (main)
    ("rank", "question", "nightblue3#12"),
    ("you sick?", "question", "dorozea-0805#23"),
    ("CSGO today?", "question", "dorozea-0805#86"),
    ("messi or ronaldo doro", "question", "dorozea-0805#173"),
    ("Chat, Cosmic Dawn Xayah or Bewitching Tristana", "question", "nightblue3#561"),
    ("Anyone here use the HyperX Clourd II headset I am looking to buy one but i need some reviews", "question",
     "nightblue3#409"),
    ("I thought you were gonna go on vacation??!?!", "question", "dorozea-0805#63"),
    # guards: right on main too
    ("@kazemf Im using HyperX Cloud, dunno if 1 or 2. But it's been amazing for me", "chat", "nightblue3#441"),
    ("will i get better in cs2 by watching u????", "question", "dorozea-0805#180"),
    ("why do u stream so early in the day ?", "question", "dorozea-0805#179"),
    ("Why don't you play kha'zix", "question", "nightblue3#609"),
    ("is it real or fake cake", "question", "dorozea-0805#224"),
]
# Third round (i18-qen): en-holdout2 rows (YouTube chat of NASA's Perseverance launch, chat-downloader
# `examples/[YouTube] Get live chat replay with start and end time.txt`, and of the Demo-2 launch,
# `examples/example.txt`, both @8dc741c4), read after its one scoring. `main` cases fail at main 7acb1d7.
# ("elo", a game room's question in nightblue3, is chat now: in the launch chat it greets in Polish.)
THIRD_ROUND = [
    # roll calls, calls to a friend, greetings, a farewell, an exclamation (main)
    ("Have a safe trip Percy.", "chat", "perseverance#61"),
    ("hey any indian???", "chat", "perseverance#224"),
    ("who is from 2TL Lord's mobile?", "chat", "perseverance#246"),
    ("BESTIE ARE YOU HERE??????????", "chat", "perseverance#202"),
    ("DII WHERE ARE YOU?", "chat", "perseverance#257"),
    ("from bd anyone?", "chat", "demo2#391"),
    ("Alguien de EL SALVADOR?", "chat", "demo2#424"),
    ("whats goin on", "chat", "demo2#66"),
    ("How's going? 🚀", "chat", "demo2#288"),
    ("Age!", "chat", "demo2#323"),
    # a countdown's bare questions, a doubt, other languages (main)
    ("when", "question", "perseverance#42"),
    ("time?", "question", "demo2#448"),
    ("T- ?", "question", "demo2#268"),
    ("Countdown?", "question", "demo2#116"),
    ("7 month? I thought road to Mars takes 4 months and one month for aerocapture and landing", "question",
     "perseverance#240"),
    ("kalktı mı?", "question", "demo2#192"),
    ("Cadê ???", "question", "demo2#99"),
    # guards: right on main too
    ("il décolle quand ?", "question", "demo2#152"),
    ("Alguien me dice el motivo por el que van?", "question", "demo2#62"),
    ("Simona la mi", "chat", "demo2#434"),
]
ALL_CASES = CASES + READ_AFTER_SCORING + SECOND_ROUND + THIRD_ROUND


@pytest.mark.parametrize(("text", "label", "where"), ALL_CASES, ids=[c[2] for c in ALL_CASES])
def test_recorded_english_comment(text: str, label: str, where: str) -> None:
    kind = classify_comment(text).kind
    assert ("chat" if kind == "chitchat" else kind) == label, where


def test_the_cases_are_recorded_rows_with_their_labels() -> None:
    rows = {r["text"]: r for r in EVAL.load_rows() if r["split"] in ("en-dev", "en-holdout", "en-dev2", "en-holdout2")}
    for text, label, _ in ALL_CASES:
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


@pytest.mark.parametrize(("split", "precision", "recall"),
                         [("en-holdout", 0.66, 0.95), ("en-dev2", 0.76, 0.85), ("en-holdout2", 0.64, 0.84)])
def test_later_rounds_figures(split: str, precision: float, recall: float) -> None:
    """English dev after the second and third rounds (i18-qen, in-sample): en-holdout 0.677 / 0.977
    (0.542 / 0.907 before), en-dev2 0.786 / 0.868 (0.725 / 0.763 at its first scoring, main the same),
    en-holdout2 0.667 / 0.865 (0.451 / 0.622 at its one scoring, main 0.442 / 0.622). The floors fail
    at main."""
    rows = [r for r in EVAL.load_rows() if r["split"] == split]
    q = EVAL.classification(COMMENTS, rows)["classes"]["question"]
    assert q["precision"] >= precision and q["recall"] >= recall, q


def test_en_holdout3_floor() -> None:
    """en-holdout3, scored once at the end of the third round: 0.677 / 0.857 (main 0.672 / 0.878). A floor
    against regressions, not a goal (0.85 / 0.85 is not met)."""
    rows = [r for r in EVAL.load_rows() if r["split"] == "en-holdout3"]
    q = EVAL.classification(COMMENTS, rows)["classes"]["question"]
    assert q["precision"] >= 0.65 and q["recall"] >= 0.83, q
