"""The compiled accumulation loop (``_accumulate.c``)."""

def fill_area(
    status: object,
    n_thr: int,
    keep: object,
    n_max: int,
    segments: object,
    scores: object,
    npig: object,
    counts: object,
    precision: object,
    score_out: object,
    recall: object,
    /,
) -> None: ...
