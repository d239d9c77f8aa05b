"""Synthetic customer master data with known truth: the data crmclean is tested and benchmarked on.

`generate(rows, seed)` returns (customers, truth). Customers look like a merged CRM/ERP/webshop
export from ten countries: duplicates drift by typos, nicknames, moves, reformatting and gaps;
hard non-duplicates (household members, junior/senior, twins, namesakes) share much but are
different people; a few percent of values are plainly bad. Deterministic for a seed and
vectorised throughout (a million rows in seconds).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import numpy as np
import polars as pl

from crmclean.errors import UsageError
from crmclean.synth.bad import add_bad_values
from crmclean.synth.corrupt import PART_NOISE, apply_all, choose, update_rows
from crmclean.synth.entities import derive_hard_cases, draw_people, entity_frame
from crmclean.synth.render import (
    PHONE_STYLE_SHARES,
    SOURCE_SYSTEMS,
    company_expr,
    country_expr,
    dob_expr,
    dob_styles,
    email_expr,
    per_row,
    phones,
    street_expr,
    timestamps,
)
from crmclean.synth.tables import SALUTATIONS, Tables, by_country, tables
from crmclean.synth.text_noise import TEXT_NOISE, source_gaps
from crmclean.synth.world import (
    WORLD_NOISE,
    WORLD_SOURCE_GAPS,
    WORLD_SOURCE_SHARES,
    WORLD_SOURCES,
    add_placeholders,
    phone_follows_moves,
)

CUSTOMER_COLUMNS = (
    "customer_id",
    "source_system",
    "salutation",
    "first_name",
    "last_name",
    "company",
    "email",
    "phone",
    "street",
    "postcode",
    "city",
    "country",
    "date_of_birth",
    "created_at",
    "updated_at",
)
# Columns that say where and when a record was kept, not who the customer is.
BOOKKEEPING_COLUMNS = ("customer_id", "source_system", "created_at", "updated_at")
DEFAULT_DUP_SHARE = 1 / 3
DEFAULT_HARD_SHARE = 0.08
DEFAULT_BAD_SHARE = 0.03
CHUNK_ROWS = 1_000_000  # records per part of a larger data set (generate_chunks)


@dataclass(frozen=True)
class SynthResult:
    """customers and truth (record_id, entity_id), plus what was planted where.

    entities: entity_id, kind (unique/household/jr_sr/twin/namesake), related_entity_id, records.
    defects: record_id, column, kind - every deliberately bad value.
    differences: record_id, kind - the kinds of difference drawn for each record (moved,
    married, nickname, typo, initial ...); one that finds nothing to change (a nickname for a
    name without one) leaves the record as it was.
    mailboxes: the customers' own e-mail addresses (before any noise), one per entity.
    """

    customers: pl.DataFrame
    truth: pl.DataFrame
    entities: pl.DataFrame
    defects: pl.DataFrame
    differences: pl.DataFrame
    mailboxes: pl.Series = field(default_factory=lambda: pl.Series("email", [], pl.String))


def generate(
    rows: int,
    seed: int = 7,
    *,
    dup_share: float = DEFAULT_DUP_SHARE,
    max_dups: int = 4,
    hard_share: float = DEFAULT_HARD_SHARE,
    bad_share: float = DEFAULT_BAD_SHARE,
    world: bool = False,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(customers, truth) with exactly `rows` records; see generate_detailed for the knobs."""
    result = generate_detailed(
        rows,
        seed,
        dup_share=dup_share,
        max_dups=max_dups,
        hard_share=hard_share,
        bad_share=bad_share,
        world=world,
    )
    return result.customers, result.truth


def generate_detailed(
    rows: int,
    seed: int = 7,
    *,
    dup_share: float = DEFAULT_DUP_SHARE,
    max_dups: int = 4,
    hard_share: float = DEFAULT_HARD_SHARE,
    bad_share: float = DEFAULT_BAD_SHARE,
    world: bool = False,
) -> SynthResult:
    """Generate a data set.

    dup_share: share of entities that have duplicates; each has 1..max_dups of them (fewer more
    often). hard_share: share of entities that are hard non-duplicates of another entity.
    bad_share: share of values per checked column that are deliberately bad. world: add the
    sparse source systems, initials, e-mail domain typos, phone changes with moves and
    placeholders of synth.world (off: the classic data, byte-identical to earlier versions).
    """
    _check(rows, dup_share, max_dups, hard_share, bad_share)
    knobs = _Knobs(dup_share, max_dups, hard_share, bad_share, world)
    return _generate(rows, np.random.default_rng(seed), knobs, _Offsets())


def generate_chunks(
    rows: int,
    seed: int = 7,
    *,
    chunk_rows: int = CHUNK_ROWS,
    dup_share: float = DEFAULT_DUP_SHARE,
    max_dups: int = 4,
    hard_share: float = DEFAULT_HARD_SHARE,
    bad_share: float = DEFAULT_BAD_SHARE,
    world: bool = False,
) -> Iterator[SynthResult]:
    """The data set in parts of at most `chunk_rows` records, so ten million customers are
    generated and written in the memory of one million. Up to `chunk_rows` records: one part,
    exactly generate_detailed's. Beyond: each part is a data set of its own (its own draws from
    the seed, its customers' duplicates and hard cases within it, shuffled within it), numbered
    on from the parts before (customer and entity ids), and no e-mail address of one part's
    customers is another part's: mailboxes stay one person's across the whole set."""
    _check(rows, dup_share, max_dups, hard_share, bad_share)
    if chunk_rows < 1:
        raise UsageError(f"chunk_rows must be at least 1, got {chunk_rows}")
    knobs = _Knobs(dup_share, max_dups, hard_share, bad_share, world)
    offsets = _Offsets()
    taken: list[pl.Series] = []
    for part, start in enumerate(range(0, rows, chunk_rows)):
        rng = np.random.default_rng(seed if part == 0 else [seed, part])
        offsets = _Offsets(start, offsets.entities, pl.concat(taken) if taken else None)
        result = _generate(min(chunk_rows, rows - start), rng, knobs, offsets)
        taken.append(result.mailboxes)
        offsets = _Offsets(start, offsets.entities + result.entities.height)
        yield result


@dataclass(frozen=True)
class _Knobs:
    dup_share: float
    max_dups: int
    hard_share: float
    bad_share: float
    world: bool


@dataclass(frozen=True)
class _Offsets:
    """Where a part starts: records and entities before it, and the e-mail addresses taken."""

    records: int = 0
    entities: int = 0
    taken: pl.Series | None = None


def _generate(rows: int, rng: np.random.Generator, k: _Knobs, at: _Offsets) -> SynthResult:
    t = tables()
    dups = plan_duplicates(rows, k.dup_share, k.max_dups, rng)
    entities = _entities(len(dups), k.hard_share, rng, t, at.taken)
    mailboxes = entities.get_column("email")
    summary = _entity_summary(entities, 1 + dups, at.entities)
    frame, is_dup, drawn = _records(entities, dups, rng, t, k.world)
    del entities  # the parts are rendered; free them before the string noise
    masks = choose(TEXT_NOISE, is_dup, rng)
    _at_least_one_change(masks, is_dup)
    frame = apply_all(frame, TEXT_NOISE, masks, rng, t)
    drawn |= {noise.name: mask for noise, mask in zip(TEXT_NOISE, masks, strict=True)}
    if k.world:
        masks = choose(WORLD_NOISE, is_dup, rng)
        frame = apply_all(frame, WORLD_NOISE, masks, rng, t)
        drawn |= {noise.name: mask for noise, mask in zip(WORLD_NOISE, masks, strict=True)}
    frame = source_gaps(frame, rng, WORLD_SOURCE_GAPS) if k.world else source_gaps(frame, rng)
    frame, defects = add_bad_values(frame, k.bad_share, rng)
    if k.world:
        frame, defects = add_placeholders(frame, defects, rng)
    # Its own generator: how many copies need fixing must not shift the shuffle's draws.
    frame = _no_verbatim_copies(frame, is_dup, np.random.default_rng(rng.integers(2**63)))
    result = _shuffle(frame, defects, summary, _drawn_log(drawn), rng, at)
    return replace(result, mailboxes=mailboxes)


def _drawn_log(drawn: dict[str, np.ndarray]) -> pl.DataFrame:
    """row, kind: one row per record and kind of difference drawn for it."""
    return pl.concat(
        [
            pl.DataFrame(
                {"row": pl.Series(rows, dtype=pl.Int64), "kind": [kind] * len(rows)},
                schema={"row": pl.Int64, "kind": pl.String},
            )
            for kind, rows in ((k, np.flatnonzero(m)) for k, m in drawn.items())
        ]
    )


def _entities(
    n: int, hard_share: float, rng: np.random.Generator, t: Tables, taken: pl.Series | None
) -> pl.DataFrame:
    """The true customers: clean values and the parts their records are rendered from."""
    columns = draw_people(n, rng, t)
    derive_hard_cases(columns, hard_share, rng, t)
    entities = entity_frame(columns, t).with_columns(email=email_expr(), company=company_expr())
    return _own_mailboxes(entities, taken).drop("mailbox")


def _own_mailboxes(entities: pl.DataFrame, given: pl.Series | None = None) -> pl.DataFrame:
    """One address, one mailbox: a provider hands jan.jansen@ziggo.nl to one person, so the next
    Jan Jansen signs up as jan.jansen7@ziggo.nl. Only people who share a mailbox on purpose (a
    household's family address) keep the same one. `taken`: addresses earlier parts of the
    data set gave out, which keep their owners (mailbox -1 ranks first)."""
    if given is not None and given.len():  # on the three columns it reads, not the whole frame
        narrow = entities.select("email", "mailbox", "email_num")
        before = pl.DataFrame({"email": given, "mailbox": pl.repeat(-1, given.len(), eager=True)})
        marked = pl.concat([narrow, before], how="diagonal_relaxed")
        owned = _own_mailboxes(marked).get_column("email").head(entities.height)
        return entities.with_columns(owned)
    for round_ in range(1, 4):
        taken = pl.col("mailbox").rank("dense").over("email") - 1
        if entities.select(taken.max()).item() == 0:
            break
        number = (taken * 10 * round_ + pl.col("email_num") % 10).cast(pl.String)
        local, domain = (
            pl.col("email").str.extract(r"^(.*)@"),
            pl.col("email").str.extract(r"@(.*)$"),
        )
        entities = entities.with_columns(
            email=pl.when(taken > 0)
            .then(pl.concat_str(local, number, pl.lit("@"), domain))
            .otherwise(pl.col("email"))
        )
    return entities


def _records(
    entities: pl.DataFrame, dups: np.ndarray, rng: np.random.Generator, t: Tables, world: bool
) -> tuple[pl.DataFrame, np.ndarray, dict[str, np.ndarray]]:
    """One row per record (an entity's first record, then its duplicates), noise on the parts
    applied and rendered to the customer columns; which rows are duplicates; and per kind of
    part noise, the rows it was drawn for."""
    row_entity = np.repeat(np.arange(len(dups)), 1 + dups)
    is_dup = np.ones(len(row_entity), dtype=bool)
    is_dup[np.concatenate([[0], np.cumsum(1 + dups)[:-1]])] = False
    frame = entities[row_entity]
    masks = choose(PART_NOISE, is_dup, rng)
    if world:
        phone_follows_moves(masks, [noise.name for noise in PART_NOISE], rng)
    drawn = {noise.name: mask for noise, mask in zip(PART_NOISE, masks, strict=True)}
    drawn["married"] = drawn["married"] & frame["female"].to_numpy()  # only women, as applied
    frame = apply_all(frame, PART_NOISE, masks, rng, t)
    # Only the rendered strings matter from here on; dropping the parts halves the memory.
    rendered = _render(frame, rng, world).select(*CUSTOMER_COLUMNS[1:], "entity")
    return rendered, is_dup, drawn


def _check(rows: int, dup_share: float, max_dups: int, hard_share: float, bad_share: float) -> None:
    problems = []
    if rows < 1:
        problems.append(f"rows must be at least 1, got {rows}")
    for name, value in (
        ("dup_share", dup_share),
        ("hard_share", hard_share),
        ("bad_share", bad_share),
    ):
        if not 0.0 <= value <= 1.0:
            problems.append(f"{name} must be between 0 and 1, got {value}")
    if max_dups < 1:
        problems.append(f"max_dups must be at least 1, got {max_dups}")
    if problems:
        raise UsageError("; ".join(problems))


def plan_duplicates(
    rows: int, dup_share: float, max_dups: int, rng: np.random.Generator
) -> np.ndarray:
    """Duplicates per entity: dup_share of entities get 1..max_dups (halving odds per extra one).

    The counts add up to exactly `rows` records; the last entity absorbs the remainder.
    """
    odds = 0.5 ** np.arange(max_dups)
    extra = rng.choice(np.arange(1, max_dups + 1), size=rows, p=odds / odds.sum())
    dups = np.where(rng.random(rows) < dup_share, extra, 0)
    ends = np.cumsum(1 + dups)
    n_full = int(np.searchsorted(ends, rows, side="right"))
    planned = dups[:n_full].copy()
    left = rows - (int(ends[n_full - 1]) if n_full else 0)
    if left:
        planned = np.append(planned, left - 1)
    return planned


def _render(frame: pl.DataFrame, rng: np.random.Generator, world: bool) -> pl.DataFrame:
    n = frame.height
    iso = frame["iso"].to_numpy()
    country_i = frame["country_i"].to_numpy()
    if world:
        source = np.array(WORLD_SOURCES)[rng.choice(6, size=n, p=WORLD_SOURCE_SHARES)]
    else:
        source = np.array(SOURCE_SYSTEMS)[rng.choice(3, size=n, p=[0.5, 0.3, 0.2])]
    created, updated = timestamps(rng, source)
    phone_style = rng.choice(len(PHONE_STYLE_SHARES), size=n, p=PHONE_STYLE_SHARES)
    extension = np.where(
        rng.random(n) < 0.04,
        np.char.add(
            np.array([" ext. ", " x", " ext "])[rng.integers(0, 3, n)],
            rng.integers(10, 400, n).astype(str),
        ),
        "",
    )
    salutation = _salutations(
        country_i, frame["female"].to_numpy(), frame["doctor"].to_numpy(), rng
    )
    # Juniors and seniors in English-speaking countries sign as 'Smith Jr.' in some records.
    generation = frame["generation"].to_numpy() * np.isin(iso, ["US", "GB"])
    generation = np.where(rng.random(n) < 0.5, generation, 0)
    # lazy: common subexpressions (calling codes, date parts) are computed once
    return (
        frame.lazy()
        .with_columns(
            source_system=per_row(source, "source_system"),
            salutation=salutation,
            last_name=pl.concat_str(
                pl.col("last_name"),
                per_row(np.array(["", " Jr.", " Sr."])[generation], "_generation"),
            ),
            street=street_expr(),
            phone=phones(frame, phone_style, extension),
            date_of_birth=dob_expr(per_row(dob_styles(iso, rng), "_dob_style")),
            country=country_expr(
                per_row(rng.random(n) < 0.1, "_alias"), per_row(rng.integers(0, 50, n), "_a")
            ),
            created_at=created,
            updated_at=updated,
        )
        .collect()
    )


def _salutations(
    country: np.ndarray, female: np.ndarray, doctor: np.ndarray, rng: np.random.Generator
) -> pl.Series:
    """Herr/Hr./Frau/Fr., Mr/Mrs/Ms, M./Mme ...; doctors' 'Dr.' is in most of their records."""
    n = len(country)
    table = {c: (m[0], m[1], f[0], f[1]) for c, (m, f) in SALUTATIONS.items()}
    variant = (rng.random(n) < 0.25).astype(np.int64)
    text = by_country(table, country, female.astype(np.int64) * 2 + variant)
    doctor = doctor & (rng.random(n) < 0.7)
    return pl.select(
        pl.when(pl.lit(doctor)).then(pl.lit(text) + " Dr.").otherwise(pl.lit(text))
    ).to_series()


def _at_least_one_change(masks: list[np.ndarray], is_dup: np.ndarray) -> None:
    """A duplicate with no text noise drawn gets a typo, so no duplicate is a verbatim copy."""
    untouched = is_dup & ~np.logical_or.reduce(masks)
    typo = next(k for k, noise in enumerate(TEXT_NOISE) if noise.name == "typo")
    masks[typo] |= untouched


def _no_verbatim_copies(
    frame: pl.DataFrame, is_dup: np.ndarray, rng: np.random.Generator
) -> pl.DataFrame:
    """Noise that changed nothing (no umlaut to transliterate ...) or defects planted alike can
    leave a duplicate equal to its original; such a duplicate gets one extra letter in its last
    name."""
    content = [c for c in CUSTOMER_COLUMNS if c not in BOOKKEEPING_COLUMNS]
    copies = frame.select(*content, "entity").is_duplicated().to_numpy() & is_dup

    def extra_letter(n: int) -> dict[str, pl.Expr]:
        name = pl.col("last_name")
        at = (per_row(rng.random(n), "_at") * name.str.len_chars()).cast(pl.Int64)
        letter = per_row(np.array(list("aeilnorst"))[rng.integers(0, 9, n)], "_letter")
        return {"last_name": pl.concat_str(name.str.slice(0, at), letter, name.str.slice(at))}

    return update_rows(frame, copies, extra_letter)


def _shuffle(
    frame: pl.DataFrame,
    defects: pl.DataFrame,
    summary: pl.DataFrame,
    drawn: pl.DataFrame,
    rng: np.random.Generator,
    at: _Offsets,
) -> SynthResult:
    """Shuffle the rows (duplicates are not adjacent) and number them in the new order."""
    n = frame.height
    order = rng.permutation(n)
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n)
    first = at.records + 1
    ids = pl.Series("customer_id", np.arange(first, first + n)).cast(pl.String).str.zfill(8)
    ids = ("C" + ids).alias("customer_id")
    kept = [c for c in CUSTOMER_COLUMNS if c != "customer_id"]
    shuffled = frame.select(*kept, "entity")[order].with_columns(customer_id=ids)
    entity = shuffled["entity"] + 1 + at.entities
    entity_id = ("E" + entity.cast(pl.String).str.zfill(8)).alias("entity_id")
    customers = shuffled.select(CUSTOMER_COLUMNS)
    truth = pl.DataFrame({"record_id": ids, "entity_id": entity_id})
    defects = defects.select(
        record_id=ids.gather(position[defects["row"].to_numpy()]), column="column", kind="kind"
    ).sort("record_id", "column")
    differences = drawn.select(
        record_id=ids.gather(position[drawn["row"].to_numpy()]), kind="kind"
    ).sort("record_id", "kind")
    return SynthResult(customers, truth, summary, defects, differences)


def _entity_summary(entities: pl.DataFrame, records: np.ndarray, before: int = 0) -> pl.DataFrame:
    """entity_id, kind, related_entity_id, records (how many records the entity has)."""

    def as_id(column: str) -> pl.Expr:
        return "E" + (pl.col(column) + 1 + before).cast(pl.String).str.zfill(8)

    return entities.select(
        entity_id=as_id("entity"),
        kind="kind",
        related_entity_id=as_id("related"),
        records=pl.Series(records, dtype=pl.Int64),
    )
