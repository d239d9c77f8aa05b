"""Nickname resolution for the `nickname` comparison level: Bill -> william, Sepp -> josef.

A compact built-in table of common English and German short forms. When the rule file derives a
nickname-resolved key (e.g. `first_name_key`), a level can compare that column with `exact`
instead; this table serves rule files that compare raw first names.
"""

from __future__ import annotations

import polars as pl

_FORMS: dict[str, list[str]] = {
    "william": ["bill", "billy", "will", "willy", "liam"],
    "robert": ["bob", "bobby", "rob", "robbie", "bert"],
    "richard": ["rick", "ricky", "dick", "rich", "richie"],
    "james": ["jim", "jimmy", "jamie"],
    "john": ["jack", "johnny", "jon"],
    "joseph": ["joe", "joey"],
    "michael": ["mike", "mikey", "mick", "micha"],
    "thomas": ["tom", "tommy"],
    "charles": ["charlie", "chuck"],
    "christopher": ["chris", "kit"],
    "daniel": ["dan", "danny"],
    "david": ["dave", "davy"],
    "edward": ["ed", "eddie", "ted", "ned"],
    "anthony": ["tony"],
    "andrew": ["andy", "drew"],
    "matthew": ["matt"],
    "nicholas": ["nick", "nicky"],
    "benjamin": ["ben", "benny"],
    "alexander": ["alex", "sasha", "sascha", "alec", "xander"],
    "samuel": ["sam", "sammy"],
    "stephen": ["steve", "stevie"],
    "steven": ["steve"],
    "jonathan": ["jon", "jonny"],
    "timothy": ["tim", "timmy"],
    "patrick": ["pat", "paddy"],
    "peter": ["pete"],
    "margaret": ["maggie", "meg", "peggy", "greta", "gretel"],
    "elizabeth": ["liz", "lizzy", "beth", "betty", "eliza", "lisa", "elise", "betsy"],
    "katherine": ["kate", "katie", "kathy", "kat", "kathi"],
    "catherine": ["cathy", "cate", "kate"],
    "jennifer": ["jen", "jenny"],
    "susan": ["sue", "susie"],
    "deborah": ["debbie", "deb"],
    "patricia": ["pat", "patty", "tricia"],
    "rebecca": ["becky", "becca"],
    "victoria": ["vicky", "tori"],
    "alexandra": ["alex", "sandra", "alexa"],
    "christina": ["chris", "tina", "christa"],
    "jessica": ["jess", "jessie"],
    "dorothy": ["dot", "dolly"],
    "josef": ["sepp", "seppl", "jupp", "joseph"],
    "johann": ["hans", "hannes"],
    "johannes": ["hannes", "hans", "jo"],
    "wolfgang": ["wolf", "wolfi"],
    "friedrich": ["fritz"],
    "franziska": ["franzi"],
    "matthias": ["matze", "hias"],
    "maximilian": ["max", "maxi"],
    "nikolaus": ["klaus", "niko"],
    "christian": ["chris", "christl"],
    "bernhard": ["bernd"],
    "heinrich": ["heinz", "heini"],
    "ulrich": ["uli"],
    "wilhelm": ["willi", "willy", "wim"],
    "georg": ["schorsch"],
    "barbara": ["babs", "barbie", "bärbel"],
    "gabriele": ["gabi", "gaby"],
    "susanne": ["susi", "sanne"],
    "stefanie": ["steffi"],
    "katharina": ["kathi", "katja", "kati", "trina"],
    "magdalena": ["lena", "leni", "magda"],
    "andreas": ["andi", "andy"],
    "tobias": ["tobi"],
    "sebastian": ["basti", "sebi"],
    "florian": ["flo"],
    "dominik": ["dome", "dom"],
}


def nickname_table() -> dict[str, str]:
    """Each short form -> its full name. A short form of two names keeps the first listed."""
    table: dict[str, str] = {}
    for full, shorts in _FORMS.items():
        for short in shorts:
            table.setdefault(short, full)
    return table


_TABLE = nickname_table()


def resolve_nicknames(series: pl.Series) -> pl.Series:
    """Lower-cased, trimmed names with known short forms replaced by the full name."""
    names = series.cast(pl.String).str.strip_chars().str.to_lowercase()
    return names.replace(_TABLE)
